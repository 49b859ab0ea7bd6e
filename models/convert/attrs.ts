// Reading TF NodeDef attributes as TF.js's model.json stores them (strings base64, ints as strings).
import { ConvertError } from './errors.js';
import type { TfNode } from './tfjs-model.js';

const decode = (s: string) => Buffer.from(s, 'base64').toString('utf8');

export class Attrs {
  constructor(
    private readonly node: TfNode,
    private readonly model: string,
  ) {}

  private fail(name: string, what: string): never {
    throw new ConvertError(`model ${this.model}: node ${this.node.name} (${this.node.op}): attribute ${name} ${what}`);
  }

  has(name: string): boolean {
    return this.node.attr?.[name] !== undefined;
  }

  int(name: string, fallback?: number): number {
    const v = this.node.attr?.[name]?.i;
    if (v === undefined) return fallback ?? this.fail(name, 'is missing');
    return Number(v);
  }

  ints(name: string, fallback?: number[]): number[] {
    const v = this.node.attr?.[name]?.list;
    if (v === undefined) return fallback ?? this.fail(name, 'is missing');
    return (v.i ?? []).map(Number);
  }

  string(name: string, fallback?: string): string {
    const v = this.node.attr?.[name]?.s;
    if (v === undefined) return fallback ?? this.fail(name, 'is missing');
    return decode(v);
  }

  strings(name: string): string[] {
    return (this.node.attr?.[name]?.list?.s ?? []).map(decode);
  }

  bool(name: string, fallback = false): boolean {
    return this.node.attr?.[name]?.b ?? fallback;
  }

  float(name: string, fallback: number): number {
    return this.node.attr?.[name]?.f ?? fallback;
  }

  type(name: string): string | undefined {
    return this.node.attr?.[name]?.type;
  }

  /** Fails with the op, node and model when an attribute has a value the converter does not handle. */
  expect<T>(name: string, value: T, allowed: readonly T[]): T {
    if (!allowed.includes(value)) this.fail(name, `= ${JSON.stringify(value)} is not supported (supported: ${allowed.map((a) => JSON.stringify(a)).join(', ')})`);
    return value;
  }
}

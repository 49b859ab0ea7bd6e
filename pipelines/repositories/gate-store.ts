// The per-stream gating state in Redis: one hash per stream, one field per gated model plus the
// running background, each with its stream time beside it. Perceive jobs of one stream may run at
// once on several workers and finish in any order, so a write lands only when it is newer in stream
// time than the field it replaces (one script, atomic); an older chunk never rolls the state back.
import type { Redis } from 'ioredis';
import { decodeGateState, type GateMarks, type GateState, type GateWrite } from '../records/gate-state.js';

const SAVE_NEWER = `
for i = 2, #ARGV, 3 do
  local field = ARGV[i]
  local t = tonumber(ARGV[i + 1])
  local held = redis.call('hget', KEYS[1], field .. ':t')
  if not held or tonumber(held) < t then
    redis.call('hset', KEYS[1], field .. ':t', ARGV[i + 1], field, ARGV[i + 2])
  end
end
redis.call('expire', KEYS[1], ARGV[1])
return 1`;

/** The Redis hash holding one stream's gating state. */
export function gateKey(prefix: string, stream: string): string {
  return `${prefix}:gate:${stream}`;
}

export class GateStore implements GateMarks {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  /** ttlSeconds: a stream silent this long starts again from no state (every model runs once). */
  constructor(redis: Redis, prefix: string, options: { ttlSeconds: number }) {
    this.#redis = redis;
    this.#prefix = prefix;
    this.#ttlSeconds = Math.max(1, Math.ceil(options.ttlSeconds));
  }

  key(stream: string): string {
    return gateKey(this.#prefix, stream);
  }

  async loadGate(stream: string): Promise<GateState> {
    const all = await this.#redis.hgetall(this.key(stream));
    const fields: Record<string, string> = {};
    for (const [field, value] of Object.entries(all)) if (!field.endsWith(':t')) fields[field] = value;
    return decodeGateState(fields);
  }

  async saveGate(stream: string, writes: GateWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const args = writes.flatMap((w) => [w.field, String(w.t), w.value]);
    await this.#redis.eval(SAVE_NEWER, 1, this.key(stream), String(this.#ttlSeconds), ...args);
  }

  /** Forgets a stream's state (its models all run on the next keyframe). */
  async clear(stream: string): Promise<void> {
    await this.#redis.del(this.key(stream));
  }
}

// Filter strings for LanceDB (DataFusion SQL) built only from typed, validated values. Nothing a
// user typed is ever pasted into a filter: strings are quoted with quotes doubled, numbers must
// be finite, identifiers come from code, and names are checked against their patterns first.
import { EngramError } from '../../config/errors.js';
import { STREAM_NAME } from '../records/event.js';

/** A single-quoted SQL string literal; a quote inside is doubled, NUL is refused. */
export function sqlString(value: string): string {
  if (value.includes('\0')) throw new EngramError('filter value contains a NUL character');
  return `'${value.replace(/'/g, "''")}'`;
}

export function sqlNumber(value: number): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new EngramError(`filter value is not a finite number: ${String(value)}`);
  return String(value);
}

/** A column name from code; refuses anything that is not a plain identifier. */
export function sqlIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new EngramError(`not a column name: ${JSON.stringify(name)}`);
  return /[A-Z]/.test(name) ? `\`${name}\`` : name;
}

/** A column name from code, always backtick-quoted (camelCase names and keywords such as `end`). */
export function sqlQuoted(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new EngramError(`not a column name: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

export function sqlIn(column: string, values: readonly string[]): string {
  if (values.length === 0) return 'false';
  return `${sqlIdent(column)} IN (${values.map(sqlString).join(', ')})`;
}

/** A stream name as a filter value, validated first so a bad name is named in the error. */
export function sqlStream(stream: string): string {
  if (!STREAM_NAME.test(stream)) throw new EngramError(`not a stream name: ${JSON.stringify(stream)} (lower-case letters, digits, - and _)`);
  return sqlString(stream);
}

/** Joins conditions with AND; undefined when there are none. */
export function sqlAnd(parts: (string | undefined | false)[]): string | undefined {
  const kept = parts.filter((p): p is string => typeof p === 'string' && p.length > 0);
  return kept.length === 0 ? undefined : kept.map((p) => `(${p})`).join(' AND ');
}

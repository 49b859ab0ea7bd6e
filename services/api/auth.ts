// API keys: config holds only SHA-256 hashes; a request presents the key itself (Authorization:
// Bearer, x-api-key, or the HttpOnly cookie the login form sets for browsers, which cannot put
// headers on <img>, <video> or EventSource requests). No key: 401. A key that matches none: 403.
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { EngramError } from '../../config/errors.js';
import type { ApiConfig } from '../../config/schema.js';

export const KEY_COOKIE = 'engram_api_key';

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

export type KeyPolicy = { required: boolean; hashes: Buffer[] };

/**
 * Whether keys are required on this server. Off loopback they always are, and a server that
 * would listen off loopback with no keys refuses to start instead of exposing the memory.
 */
export function keyPolicy(config: ApiConfig): KeyPolicy {
  const hashes = config.apiKeys.map((hex) => Buffer.from(hex, 'hex'));
  if (!isLoopbackHost(config.host)) {
    if (hashes.length === 0) {
      throw new EngramError(`api.host is ${config.host}, which is not loopback: set api.apiKeys (make a hash with \`engram api hash-key\`) or listen on 127.0.0.1`, { exitCode: 2 });
    }
    return { required: true, hashes };
  }
  return { required: hashes.length > 0 && config.requireKeyOnLoopback, hashes };
}

export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    try {
      out[name] = decodeURIComponent(raw);
    } catch {
      out[name] = raw;
    }
  }
  return out;
}

/** The key a request presents, if any. */
export function presentedKey(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (match?.[1]) return match[1].trim();
  }
  const header = headers['x-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const cookie = parseCookies(typeof headers.cookie === 'string' ? headers.cookie : undefined)[KEY_COOKIE];
  if (cookie) return cookie;
  return undefined;
}

export function keyMatches(policy: KeyPolicy, key: string): boolean {
  const digest = createHash('sha256').update(key, 'utf8').digest();
  let ok = false;
  // Compare against every hash so the time taken does not say which one (or whether any) matched.
  for (const hash of policy.hashes) if (hash.length === digest.length && timingSafeEqual(hash, digest)) ok = true;
  return ok;
}

export type AuthOutcome = 'ok' | 'missing' | 'wrong';

export function authorize(policy: KeyPolicy, headers: Record<string, string | string[] | undefined>): AuthOutcome {
  const key = presentedKey(headers);
  if (key === undefined) return policy.required ? 'missing' : 'ok';
  // A wrong key is refused even where none is needed: it is a mistake the caller should hear about.
  if (policy.hashes.length === 0) return 'ok';
  return keyMatches(policy, key) ? 'ok' : 'wrong';
}

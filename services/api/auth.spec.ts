import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../config/schema.js';
import { authorize, hashKey, isLoopbackHost, keyPolicy, presentedKey } from './auth.js';

const api = (over: Record<string, unknown> = {}) => ConfigSchema.parse({ api: over }).api;

describe('api keys', () => {
  it('hashes like sha256sum', () => {
    // printf %s secret | sha256sum
    expect(hashKey('secret')).toBe('2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b');
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'example.org', '128.0.0.1']) expect(isLoopbackHost(h)).toBe(false);
  });

  it('refuses to listen off loopback without keys, naming the fix', () => {
    expect(() => keyPolicy(api({ host: '0.0.0.0' }))).toThrow(/api\.host is 0\.0\.0\.0, which is not loopback: set api\.apiKeys .*engram api hash-key/);
  });

  it('requires a key off loopback even when loopback would not', () => {
    const policy = keyPolicy(api({ host: '0.0.0.0', apiKeys: [hashKey('k1')], requireKeyOnLoopback: false }));
    expect(authorize(policy, {})).toBe('missing');
    expect(authorize(policy, { authorization: 'Bearer k1' })).toBe('ok');
    expect(authorize(policy, { 'x-api-key': 'k2' })).toBe('wrong');
  });

  it('on loopback: open without keys, required with keys by default, optional when configured so', () => {
    expect(authorize(keyPolicy(api()), {})).toBe('ok');
    const required = keyPolicy(api({ apiKeys: [hashKey('k1')] }));
    expect(authorize(required, {})).toBe('missing');
    expect(authorize(required, { cookie: 'a=b; engram_api_key=k1' })).toBe('ok');
    const optional = keyPolicy(api({ apiKeys: [hashKey('k1')], requireKeyOnLoopback: false }));
    expect(authorize(optional, {})).toBe('ok');
    expect(authorize(optional, { authorization: 'Bearer nope' })).toBe('wrong');
  });

  it('reads Bearer, x-api-key and the cookie, in that order', () => {
    expect(presentedKey({ authorization: 'bearer  abc ', 'x-api-key': 'def' })).toBe('abc');
    expect(presentedKey({ authorization: 'Basic xyz', 'x-api-key': 'def' })).toBe('def');
    expect(presentedKey({ cookie: 'engram_api_key=a%20b' })).toBe('a b');
    expect(presentedKey({})).toBeUndefined();
  });

  it('rejects config hashes that are not sha256 hex', () => {
    expect(() => ConfigSchema.parse({ api: { apiKeys: ['secret'] } })).toThrow(/SHA-256 hash/);
  });
});

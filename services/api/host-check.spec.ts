import { describe, expect, it } from 'vitest';
import { hostCheck, hostName } from './host-check.js';

describe('Host header check (DNS rebinding)', () => {
  it('reads the name out of a Host header', () => {
    expect(hostName('LocalHost:7077')).toBe('localhost');
    expect(hostName('[::1]:7077')).toBe('::1');
    expect(hostName('127.0.0.1')).toBe('127.0.0.1');
    expect(hostName('engram.home.:80')).toBe('engram.home');
  });

  it('accepts loopback names and api.host, refuses everything else', () => {
    const allowed = hostCheck({ host: '127.0.0.1', hostNames: [] });
    for (const h of ['localhost:7077', '127.0.0.1:7077', '127.0.0.1', '[::1]:7077', 'app.localhost:7077', 'LOCALHOST']) expect(allowed(h), h).toBe(true);
    for (const h of ['evil.example:7077', 'evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', '192.168.1.2:7077', '']) expect(allowed(h), h).toBe(false);
    expect(allowed(undefined)).toBe(false);
  });

  it('adds api.host and api.hostNames', () => {
    const allowed = hostCheck({ host: '::1', hostNames: ['engram.home'] });
    expect(allowed('[::1]:7077')).toBe(true);
    expect(allowed('engram.home:8443')).toBe(true);
    expect(allowed('other.home')).toBe(false);
  });
});

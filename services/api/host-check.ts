// DNS rebinding: a web page on evil.example can re-point its own name at 127.0.0.1 and then read
// whatever a keyless loopback server answers, because the browser thinks it is talking to
// evil.example. The Host header still says evil.example, so a server that answers without a key
// answers only to names that already mean this machine (loopback names, api.host) and to the
// names a deployment adds (api.hostNames, e.g. for a local reverse proxy).
import { isIP } from 'node:net';
import type { ApiConfig } from '../../config/schema.js';
import { isLoopbackHost } from './auth.js';

/** The host part of a Host header, without port, brackets or a trailing dot, lower-cased. */
export function hostName(header: string): string {
  const value = header.trim().toLowerCase();
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(value);
  const name = bracketed ? (bracketed[1] ?? '') : isIP(value) === 6 ? value : value.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

export type HostCheck = (hostHeader: string | undefined) => boolean;

export function hostCheck(config: Pick<ApiConfig, 'host' | 'hostNames'>): HostCheck {
  const names = new Set([config.host, ...config.hostNames].map((n) => hostName(n)));
  return (header) => {
    if (header === undefined || header === '') return false;
    const name = hostName(header);
    // *.localhost always resolves to loopback in browsers (RFC 6761); no outside page owns it.
    return isLoopbackHost(name) || name.endsWith('.localhost') || names.has(name);
  };
}

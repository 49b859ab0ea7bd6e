// The network facts the source guard needs: what a host name resolves to now, and this machine's
// own addresses. Resolved again at every connection attempt, so a name that later points
// somewhere else is caught on the next reconnect.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { checkTarget, isThisMachine, targetOf, type NetworkPolicy, type OwnEndpoint } from '../ingest/network-guard.js';
import type { SourceSpec } from '../ingest/source.js';

/** Addresses of this machine's interfaces (loopback included). */
export function localAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const entry of list ?? []) out.add(entry.address.toLowerCase().replace(/%.*$/, ''));
  return out;
}

/** Every address a host resolves to; undefined when it cannot be resolved (yet). */
export async function resolveHost(host: string): Promise<string[] | undefined> {
  if (isIP(host) !== 0) return [host];
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return undefined;
  }
}

/** The options the guard reads. */
export interface SourceNetworkConfig {
  api: { host: string; port: number };
  redis: { url?: string | undefined };
  ingest: { allowedHosts: readonly string[] };
}

/** The own endpoints' addresses: 'this-machine' for a local host, else what it resolves to. */
async function endpointAddresses(host: string): Promise<readonly string[] | 'this-machine'> {
  const addresses = await resolveHost(host.replace(/^\[|\]$/g, ''));
  if (!addresses) return [];
  const local = localAddresses();
  return addresses.some((a) => isThisMachine(a, local)) ? 'this-machine' : addresses;
}

/** engram's own API and its Redis (when reached over TCP), and the configured allow-list. */
export async function sourceNetworkPolicy(config: SourceNetworkConfig): Promise<NetworkPolicy> {
  const own: OwnEndpoint[] = [];
  // Port 0 picks a free port at listen time (tests); there is nothing fixed to protect.
  if (config.api.port !== 0) own.push({ what: "engram's own API (api.host/api.port)", addresses: await endpointAddresses(config.api.host), port: config.api.port });
  const redisUrl = config.redis.url;
  if (redisUrl && /^rediss?:\/\//i.test(redisUrl)) {
    try {
      const url = new URL(redisUrl);
      own.push({ what: "engram's Redis (redis.url / REDIS_URL)", addresses: await endpointAddresses(url.hostname || '127.0.0.1'), port: url.port ? Number(url.port) : 6379 });
    } catch {
      // An unparsable URL never connected either; the config check reports it.
    }
  }
  return { own, allowedHosts: config.ingest.allowedHosts };
}

/** Checks a network source (no-op for files, devices and stdin); throws SourceError naming the problem. */
export async function checkSourceNetwork(spec: SourceSpec, config: SourceNetworkConfig): Promise<void> {
  const target = targetOf(spec);
  if (!target) return;
  const policy = await sourceNetworkPolicy(config);
  checkTarget(spec.display, target, await resolveHost(target.host), policy, localAddresses());
}

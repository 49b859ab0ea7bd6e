// Where a network source may point. A source never targets engram's own API or its Redis (an
// API client could otherwise make engram talk to itself), and a deployment whose API clients are
// not fully trusted can list the hosts and networks sources may reach (ingest.allowedHosts).
// Pure: the addresses a host resolves to and this machine's own addresses come from the caller.
import { BlockList, isIP } from 'node:net';
import { SourceError, type NetworkFacts, type SourceSpec } from '../records/source.js';

/**
 * The host could not be resolved, so it could not be checked against ingest.allowedHosts. Unlike
 * the other refusals this may pass on a later attempt (a DNS hiccup, a camera not yet up).
 */
export class HostUnresolvedError extends SourceError {}

/** A TCP endpoint engram itself serves or depends on. */
export interface OwnEndpoint {
  /** What to call it in a message, with the option that sets it: "engram's own API (api.port)". */
  what: string;
  /** Addresses it is reached at; 'this-machine' when it is local (any local address reaches it). */
  addresses: readonly string[] | 'this-machine';
  port: number;
}

export interface NetworkPolicy {
  own: readonly OwnEndpoint[];
  /** ingest.allowedHosts as configured: host names, `*.domain`, IP addresses and CIDR networks. Empty: any host. */
  allowedHosts: readonly string[];
}

export interface Target {
  host: string;
  port: number | undefined;
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, rtsp: 554, rtsps: 322 };
/** The host and port a network source connects to; undefined for files, devices and stdin. */
export function targetOf(spec: SourceSpec): Target | undefined {
  if (spec.kind !== 'url') return undefined;
  let url: URL;
  try {
    url = new URL(spec.source);
  } catch {
    return undefined;
  }
  const protocol = url.protocol.slice(0, -1).toLowerCase();
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[protocol];
  return { host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port };
}

/** IPv4 in its plain form even when written as an IPv4-mapped IPv6 address. */
function plain(address: string): string {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped?.[1]) return mapped[1];
  // The URL parser writes ::ffff:127.0.0.1 as ::ffff:7f00:1.
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex?.[1] && hex[2]) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
  }
  return lower;
}

/** Loopback, the unspecified address (connecting to 0.0.0.0 reaches this machine) or one of its interfaces. */
export function isThisMachine(address: string, localAddresses: ReadonlySet<string>): boolean {
  const a = plain(address);
  if (a === '0.0.0.0' || a === '::' || a === '::1') return true;
  if (isIP(a) === 4 && a.startsWith('127.')) return true;
  return localAddresses.has(a);
}

function allowList(entries: readonly string[]): { names: string[]; suffixes: string[]; networks: BlockList } {
  const names: string[] = [];
  const suffixes: string[] = [];
  const networks = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address ?? '');
    if (family !== 0) {
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) networks.addAddress(address!, type);
      else networks.addSubnet(address!, Number(prefix), type);
    } else if (entry.startsWith('*.')) suffixes.push(entry.slice(1).toLowerCase());
    else names.push(entry.toLowerCase());
  }
  return { names, suffixes, networks };
}

function inNetworks(networks: BlockList, address: string): boolean {
  const a = plain(address);
  const family = isIP(a);
  return family !== 0 && networks.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * Throws SourceError when the target is one of engram's own endpoints, or is outside
 * ingest.allowedHosts. `addresses` are what the host resolves to now (the host itself when it is
 * an address); undefined when it could not be resolved.
 */
export function checkTarget(display: string, target: Target, addresses: readonly string[] | undefined, policy: NetworkPolicy, localAddresses: ReadonlySet<string>): void {
  const resolved = addresses ?? (isIP(target.host) !== 0 ? [target.host] : []);
  for (const own of policy.own) {
    if (target.port !== own.port) continue;
    const hit = resolved.find((a) => (own.addresses === 'this-machine' ? isThisMachine(a, localAddresses) : own.addresses.some((o) => plain(o) === plain(a))));
    if (hit !== undefined) {
      const via = plain(hit) === target.host ? '' : ` (${target.host} resolves to ${hit})`;
      throw new SourceError(`source ${display} points at ${own.what}, port ${own.port} on ${plain(hit)}${via}: engram does not ingest from itself or its own services`);
    }
  }
  if (policy.allowedHosts.length === 0) return;
  const allow = allowList(policy.allowedHosts);
  if (allow.names.includes(target.host) || allow.suffixes.some((s) => target.host.endsWith(s))) return;
  const listed = policy.allowedHosts.join(', ');
  if (resolved.length === 0) {
    throw new HostUnresolvedError(`source host "${target.host}" could not be resolved, so it cannot be checked against ingest.allowedHosts (${listed})`);
  }
  const outside = resolved.filter((a) => !inNetworks(allow.networks, a));
  if (outside.length > 0) {
    const via = resolved.length === 1 && plain(resolved[0]!) === target.host ? '' : ` (it resolves to ${outside.map(plain).join(', ')})`;
    throw new SourceError(`source host "${target.host}"${via} is not in ingest.allowedHosts (${listed})`);
  }
}

/** The options the guard reads. */
export interface SourceNetworkConfig {
  api: { host: string; port: number };
  redis: { url?: string | undefined };
  ingest: { allowedHosts: readonly string[] };
}

/** An own endpoint's addresses: 'this-machine' for a local host, else what it resolves to. */
async function endpointAddresses(host: string, facts: NetworkFacts): Promise<readonly string[] | 'this-machine'> {
  const addresses = await facts.resolve(host.replace(/^\[|\]$/g, ''));
  if (!addresses) return [];
  const local = facts.localAddresses();
  return addresses.some((a) => isThisMachine(a, local)) ? 'this-machine' : addresses;
}

/** engram's own API and its Redis (when reached over TCP), and the configured allow-list. */
export async function sourceNetworkPolicy(config: SourceNetworkConfig, facts: NetworkFacts): Promise<NetworkPolicy> {
  const own: OwnEndpoint[] = [];
  // Port 0 picks a free port at listen time (tests); there is nothing fixed to protect.
  if (config.api.port !== 0) own.push({ what: "engram's own API (api.host/api.port)", addresses: await endpointAddresses(config.api.host, facts), port: config.api.port });
  const redisUrl = config.redis.url;
  if (redisUrl && /^rediss?:\/\//i.test(redisUrl)) {
    try {
      const url = new URL(redisUrl);
      own.push({ what: "engram's Redis (redis.url / REDIS_URL)", addresses: await endpointAddresses(url.hostname || '127.0.0.1', facts), port: url.port ? Number(url.port) : 6379 });
    } catch {
      // An unparsable URL never connected either; the Redis connection reports it.
    }
  }
  return { own, allowedHosts: config.ingest.allowedHosts };
}

/**
 * Checks a network source (no-op for files, devices and stdin); throws SourceError naming the
 * problem. Resolved again at every call, so a name that later points elsewhere is caught on the
 * next connection attempt.
 */
export async function checkSourceNetwork(spec: SourceSpec, config: SourceNetworkConfig, facts: NetworkFacts): Promise<void> {
  const target = targetOf(spec);
  if (!target) return;
  const policy = await sourceNetworkPolicy(config, facts);
  checkTarget(spec.display, target, await facts.resolve(target.host), policy, facts.localAddresses());
}

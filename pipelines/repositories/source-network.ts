// The network facts the source guard needs (pipelines/ingest/network-guard.ts): what a host name
// resolves to now, and this machine's own addresses.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { NetworkFacts } from '../records/source.js';

export const localNetwork: NetworkFacts = {
  async resolve(host) {
    if (isIP(host) !== 0) return [host];
    try {
      return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      return undefined;
    }
  },
  localAddresses() {
    const out = new Set<string>();
    for (const list of Object.values(networkInterfaces())) for (const entry of list ?? []) out.add(entry.address.toLowerCase().replace(/%.*$/, ''));
    return out;
  },
};

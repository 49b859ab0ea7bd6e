// The form of an ingest.allowedHosts entry, checked when the configuration is read so a typo is
// reported with its key instead of silently allowing or refusing sources.
import { isIP } from 'node:net';

const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

/** What is wrong with an ingest.allowedHosts entry (a host name, *.domain, an address or address/prefix); undefined when nothing. */
export function allowedHostProblem(entry: string): string | undefined {
  const [address, prefix, extra] = entry.split('/');
  if (extra !== undefined) return 'expected a host name, *.domain, an IP address or a CIDR network like 192.168.1.0/24';
  if (prefix !== undefined) {
    const family = isIP(address ?? '');
    if (family === 0) return `"${address}" is not an IP address (CIDR networks are ADDRESS/PREFIX)`;
    const bits = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) return `"/${prefix}" is not a prefix length for an IPv${family} network`;
    return undefined;
  }
  if (isIP(entry) !== 0 || HOST_PATTERN.test(entry)) return undefined;
  return 'expected a host name, *.domain, an IP address or a CIDR network like 192.168.1.0/24';
}


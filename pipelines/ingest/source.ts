// What a user may type as a source, and the ffmpeg input arguments it becomes. Everything a
// source string can influence is checked here, so no part of it reaches ffmpeg as an option:
// protocols against an allow-list, files under configured roots (after resolving symlinks),
// device names against a strict pattern.
import { isIPv4, isIPv6 } from 'node:net';
import { isAbsolute, relative, resolve, sep, basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STREAM_NAME } from '../records/event.js';
import { redactUrl, SourceError, type FileFacts, type SourceSpec } from '../records/source.js';

export interface SourceOptions {
  allowedProtocols: readonly string[];
  /** Absolute, already real directories that file sources must lie under. */
  fileRoots: readonly string[];
  /** Per-attempt network timeout handed to ffmpeg. */
  timeoutMs: number;
  cwd: string;
  files: FileFacts;
}

const DEVICE = /^[A-Za-z0-9_][A-Za-z0-9_:,.=-]{0,127}$/;
const VIDEO_DEVICE = /^\/dev\/video[0-9]{1,3}$/;
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * What each kind of source may open, as ffmpeg's -protocol_whitelist. ffmpeg applies the list to
 * everything the input opens in turn (HLS segments and keys, redirects, nested protocols), so a
 * source gets only what its own protocol needs: a playlist served over http cannot name a local
 * file (`file`), a pipe or a descriptor, and nothing but an explicit udp/rtp source can open a
 * UDP socket (an SDP description served over http would otherwise bind ports). The configured
 * ingest.allowedProtocols still caps every list.
 */
const NEEDS: Record<string, readonly string[]> = {
  file: ['file', 'crypto', 'data'],
  pipe: ['pipe', 'crypto', 'data'],
  http: ['http', 'https', 'tls', 'tcp', 'hls', 'crypto', 'data', 'httpproxy'],
  https: ['http', 'https', 'tls', 'tcp', 'hls', 'crypto', 'data', 'httpproxy'],
  // -rtsp_transport tcp below: media is interleaved on the RTSP connection, no UDP ports.
  rtsp: ['rtsp', 'tcp', 'rtp'],
  rtsps: ['rtsps', 'rtsp', 'tls', 'tcp', 'rtp'],
  tcp: ['tcp'],
  tls: ['tls', 'tcp'],
  udp: ['udp'],
  rtp: ['rtp', 'udp'],
};
/** Protocols that reach this machine's own files and descriptors; never given to a network source. */
const LOCAL_PROTOCOLS = new Set(['file', 'pipe', 'fd', 'unix', 'subfile', 'concat', 'concatf', 'cache']);

function whitelist(options: SourceOptions, protocol: string): string[] {
  // A protocol someone added to ingest.allowedProtocols that engram has no entry for gets itself
  // and the stream transports, never the local ones.
  const needs = NEEDS[protocol] ?? [protocol, 'tcp', 'tls'];
  const list = needs.filter((p) => options.allowedProtocols.includes(p) && (protocol === 'file' || protocol === 'pipe' || !LOCAL_PROTOCOLS.has(p)));
  return ['-protocol_whitelist', list.join(',')];
}

function fileSource(raw: string, options: SourceOptions): SourceSpec {
  const path = raw.startsWith('file:') ? raw.slice('file:'.length) : raw;
  if (path === '') throw new SourceError('empty source');
  if (path.split(/[\\/]/).includes('..')) throw new SourceError(`source path "${path}" contains "..": give a path without parent-directory steps`);
  if (!options.allowedProtocols.includes('file')) throw new SourceError('protocol "file" is not allowed (ingest.allowedProtocols)');
  const absolute = resolve(options.cwd, path);
  let real: string;
  try {
    real = options.files.realpath(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new SourceError(`file not found: ${absolute}`);
    throw new SourceError(`cannot open ${absolute}: ${code ?? (error as Error).message}`);
  }
  if (!options.fileRoots.some((root) => within(root, real))) {
    const how = real === absolute ? '' : ` (it resolves to ${real})`;
    throw new SourceError(`file ${absolute}${how} is outside the allowed directories (ingest.fileRoots: ${options.fileRoots.join(', ')})`);
  }
  const stat = options.files.stat(real);
  if (!stat.isFile) throw new SourceError(`${real} is not a regular file`);
  if (stat.size === 0) throw new SourceError(`file ${real} is empty (zero bytes)`);
  // "file:" keeps a name like "concat:x" or "-y" from being read as a protocol or an option.
  const input = `file:${real}`;
  return { kind: 'file', source: real, display: real, inputOptions: whitelist(options, 'file'), input, live: false, probeOptions: whitelist(options, 'file') };
}

/** URL options that make ffmpeg accept connections or choose its own local socket. */
const BIND_OPTION = /^(listen|listen_timeout|local\w*|reuse\w*)$/i;

/** A file:// URL names a local path: it is checked exactly as that path would be. */
function fileUrlSource(raw: string, options: SourceOptions): SourceSpec {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SourceError(`source "${redactUrl(raw)}" is not a valid file URL (file:///absolute/path)`);
  }
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw new SourceError(`file URL "${redactUrl(raw)}" names host "${url.hostname}": engram opens only its own files (file:///absolute/path); give a network source as rtsp://, http(s)://, tcp:// or udp://`);
  }
  if (url.search || url.hash) throw new SourceError(`file URL "${redactUrl(raw)}" has a query or fragment; give the plain path (file:///absolute/path)`);
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    throw new SourceError(`file URL "${redactUrl(raw)}" is not a local path (${(error as Error).message})`);
  }
  return fileSource(path, options);
}

function isLoopbackAddress(host: string): boolean {
  return (isIPv4(host) && host.startsWith('127.')) || host === '::1';
}

function isMulticast(host: string): boolean {
  if (isIPv4(host)) {
    const first = Number(host.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return isIPv6(host) && /^ff/i.test(host);
}

function urlSource(raw: string, options: SourceOptions): SourceSpec {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SourceError(`source "${redactUrl(raw)}" is not a valid URL`);
  }
  const protocol = url.protocol.slice(0, -1).toLowerCase();
  if (!options.allowedProtocols.includes(protocol)) {
    throw new SourceError(`protocol "${protocol}" is not allowed (ingest.allowedProtocols: ${options.allowedProtocols.join(', ')})`);
  }
  if (LOCAL_PROTOCOLS.has(protocol)) {
    throw new SourceError(`protocol "${protocol}" does not name a network source; give a file path, or a URL such as rtsp://, http(s)://, tcp:// or udp://`);
  }
  // URL keeps IPv6 literals in brackets; the checks below want the bare address.
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new SourceError(`source "${redactUrl(raw)}" has no host: a ${protocol}:// URL needs one (${protocol}://HOST${protocol === 'udp' || protocol === 'tcp' || protocol === 'rtp' ? ':PORT' : '/PATH'})`);
  if (protocol !== 'http' && protocol !== 'https') {
    // ffmpeg reads options from these URLs' query strings; http's query is the server's business.
    for (const key of url.searchParams.keys()) {
      if (BIND_OPTION.test(key)) {
        throw new SourceError(`source option "${key}" is refused: engram connects out to sources and never listens for them or picks its own local socket (${redactUrl(raw)})`);
      }
    }
  }
  const us = String(options.timeoutMs * 1000);
  const inputOptions = whitelist(options, protocol);
  let input = url.toString();
  let live = true;
  if (protocol === 'rtsp' || protocol === 'rtsps') {
    inputOptions.push('-rtsp_transport', 'tcp', '-timeout', us);
  } else if (protocol === 'http' || protocol === 'https') {
    // Progressive files and VOD playlists end; probing decides (an unknown duration means live).
    live = false;
    inputOptions.push('-rw_timeout', us);
  } else if (protocol === 'tcp' || protocol === 'tls') {
    inputOptions.push('-rw_timeout', us);
  } else if (protocol === 'udp' || protocol === 'rtp') {
    // Receiving UDP means binding a local port, and ffmpeg binds it on every interface unless
    // told otherwise: anyone on the network could then feed the stream. A unicast source is bound
    // on loopback (what a local restreamer sends to); a multicast group is joined on its own
    // address. A camera elsewhere on the network is reached with rtsp:// or tcp:// instead.
    if (!url.port) throw new SourceError(`source "${redactUrl(raw)}" has no port: a ${protocol} source is ${protocol}://127.0.0.1:PORT (or a multicast group and port)`);
    if (isLoopbackAddress(host) || host === 'localhost') {
      url.searchParams.set('localaddr', host === 'localhost' ? '127.0.0.1' : host);
      input = url.toString();
    } else if (!isMulticast(host)) {
      throw new SourceError(
        `${protocol} source "${redactUrl(raw)}" would make engram listen for datagrams on every interface: engram binds ${protocol} only on loopback (${protocol}://127.0.0.1:${url.port}, fed by a local restreamer) or joins a multicast group; reach a camera on the network with rtsp:// or tcp://`,
      );
    }
    inputOptions.push('-timeout', us);
  }
  // A live stream is joined mid-way: two seconds of analysis find its streams without making the
  // viewer (and every reconnect) wait ffmpeg's default five.
  if (live) inputOptions.push('-analyzeduration', '2000000');
  const display = redactUrl(raw);
  return { kind: 'url', source: raw, display, inputOptions, input, live, probeOptions: [...inputOptions] };
}

/** Parses and checks a source string; throws SourceError naming the problem. */
export function resolveSource(raw: string, options: SourceOptions): SourceSpec {
  const source = raw.trim();
  if (source === '') throw new SourceError('empty source');
  if (source === '-') {
    if (!options.allowedProtocols.includes('pipe')) throw new SourceError('protocol "pipe" (stdin) is not allowed (ingest.allowedProtocols)');
    return { kind: 'stdin', source: '-', display: 'stdin', inputOptions: whitelist(options, 'pipe'), input: 'pipe:0', live: false, probeOptions: [] };
  }
  const device = /^(v4l2|alsa|pulse):(.*)$/.exec(source);
  if (device) {
    const kind = device[1] as 'v4l2' | 'alsa' | 'pulse';
    const name = device[2] ?? '';
    if (kind === 'v4l2') {
      if (!VIDEO_DEVICE.test(name)) throw new SourceError(`v4l2 source "${name}" is not a video device path like /dev/video0`);
      return { kind, source, display: source, inputOptions: ['-f', 'video4linux2'], input: name, live: true, probeOptions: ['-f', 'video4linux2'] };
    }
    const dev = name === '' ? 'default' : name;
    if (!DEVICE.test(dev)) throw new SourceError(`${kind} device "${dev}" has characters outside letters, digits and _:,.=-`);
    return { kind, source, display: source, inputOptions: ['-f', kind], input: dev, live: true, probeOptions: ['-f', kind] };
  }
  const scheme = SCHEME.exec(source);
  if (scheme) return (scheme[1] ?? '').toLowerCase() === 'file' ? fileUrlSource(source, options) : urlSource(source, options);
  // Something like "concat:a|b", "subfile,,start,..." or "data:...": a protocol prefix without "//".
  const bare = /^([a-z][a-z0-9+.-]*):/i.exec(source);
  if (bare && bare[1] !== 'file' && !/^[a-z]$/i.test(bare[1] ?? '')) {
    const protocol = (bare[1] ?? '').toLowerCase();
    // Protocols such as data or crypto stay on the allow-list for what a stream opens inside
    // (an HLS key, an inline segment); as a whole source they are not something engram watches.
    if (options.allowedProtocols.includes(protocol)) {
      throw new SourceError(`"${protocol}:" is not a source engram can watch: give a file path, a URL (rtsp://, http(s)://, tcp://, udp://), a device (v4l2:/dev/video0, alsa:, pulse:) or - for stdin; ${protocol} is only allowed inside a stream (ingest.allowedProtocols)`);
    }
    throw new SourceError(`protocol "${protocol}" is not allowed (ingest.allowedProtocols: ${options.allowedProtocols.join(', ')})`);
  }
  return fileSource(source, options);
}

/** A stream name from a source: the file's name, a URL's host and last path part, the device. */
export function defaultStreamName(raw: string): string {
  let base: string;
  const source = raw.trim();
  if (source === '-') base = 'stdin';
  else if (/^(v4l2|alsa|pulse):/.test(source)) base = source.replace(/^v4l2:\/dev\//, '').replace(':', '-');
  else if (SCHEME.test(source)) {
    try {
      const url = new URL(source);
      const last = url.pathname.split('/').filter(Boolean).pop() ?? '';
      base = [url.hostname, last.replace(/\.[^.]*$/, '')].filter(Boolean).join('-');
    } catch {
      base = 'stream';
    }
  } else {
    const name = basename(source.replace(/^file:/, ''));
    base = name.slice(0, name.length - extname(name).length) || name;
  }
  const cleaned = base
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 64)
    .replace(/[-_]+$/g, '');
  return STREAM_NAME.test(cleaned) ? cleaned : 'stream';
}

export function assertStreamName(name: string): void {
  if (!STREAM_NAME.test(name)) throw new SourceError(`stream name "${name}" must be 1-64 lower-case letters, digits, "-" or "_", starting with a letter or digit`);
}

// What a user may type as a source, and the ffmpeg input arguments it becomes. Everything a
// source string can influence is checked here, so no part of it reaches ffmpeg as an option:
// protocols against an allow-list, files under configured roots (after resolving symlinks),
// device names against a strict pattern.
import { isAbsolute, relative, resolve, sep, basename, extname } from 'node:path';
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

function whitelist(options: SourceOptions): string[] {
  return ['-protocol_whitelist', options.allowedProtocols.join(',')];
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
  return { kind: 'file', source: real, display: real, inputOptions: [...whitelist(options)], input, live: false, probeOptions: [...whitelist(options)] };
}

function urlSource(raw: string, scheme: string, options: SourceOptions): SourceSpec {
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
  if (!url.hostname) throw new SourceError(`source "${redactUrl(raw)}" has no host`);
  const us = String(options.timeoutMs * 1000);
  const inputOptions = [...whitelist(options)];
  let live = true;
  if (protocol === 'rtsp' || protocol === 'rtsps') {
    inputOptions.push('-rtsp_transport', 'tcp', '-timeout', us);
  } else if (protocol === 'http' || protocol === 'https') {
    // Progressive files and VOD playlists end; probing decides (an unknown duration means live).
    live = false;
    inputOptions.push('-rw_timeout', us);
  } else if (protocol === 'tcp') {
    inputOptions.push('-rw_timeout', us);
  } else if (protocol === 'udp') {
    inputOptions.push('-timeout', us);
  } else {
    live = scheme !== 'file';
  }
  // A live stream is joined mid-way: two seconds of analysis find its streams without making the
  // viewer (and every reconnect) wait ffmpeg's default five.
  if (live) inputOptions.push('-analyzeduration', '2000000');
  const display = redactUrl(raw);
  return { kind: 'url', source: raw, display, inputOptions, input: url.toString(), live, probeOptions: [...inputOptions] };
}

/** Parses and checks a source string; throws SourceError naming the problem. */
export function resolveSource(raw: string, options: SourceOptions): SourceSpec {
  const source = raw.trim();
  if (source === '') throw new SourceError('empty source');
  if (source === '-') {
    if (!options.allowedProtocols.includes('pipe')) throw new SourceError('protocol "pipe" (stdin) is not allowed (ingest.allowedProtocols)');
    return { kind: 'stdin', source: '-', display: 'stdin', inputOptions: [...whitelist(options)], input: 'pipe:0', live: false, probeOptions: [] };
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
  if (scheme) return urlSource(source, (scheme[1] ?? '').toLowerCase(), options);
  // Something like "concat:a|b" or "subfile,,start,...": a protocol prefix without "//".
  const bare = /^([a-z][a-z0-9+.-]*):/i.exec(source);
  if (bare && bare[1] !== 'file' && !/^[a-z]$/i.test(bare[1] ?? '')) {
    throw new SourceError(`protocol "${(bare[1] ?? '').toLowerCase()}" is not allowed (ingest.allowedProtocols: ${options.allowedProtocols.join(', ')})`);
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

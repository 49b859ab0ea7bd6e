// What a source is once resolved, as every layer sees it: the stage that resolves it, the media
// repository that decodes it, and the stream registry that shows it (with passwords redacted).
import { PermanentError } from '../../config/errors.js';

export type SourceKind = 'file' | 'url' | 'v4l2' | 'alsa' | 'pulse' | 'stdin';

export interface SourceSpec {
  kind: SourceKind;
  /** The source as the user gave it (files: the resolved real path). */
  source: string;
  /** What to show people: passwords in URLs replaced by ***. */
  display: string;
  /** ffmpeg options placed before `-i`. */
  inputOptions: string[];
  /** The `-i` argument. */
  input: string;
  /** Sources that never end by themselves; probing may still find a file-like URL finite. */
  live: boolean;
  /** Options for ffprobe (a subset of inputOptions that it understands). */
  probeOptions: string[];
}

/** A source that can never be ingested as given (bad path, protocol, codec): fails its job at once. */
export class SourceError extends PermanentError {
  override readonly name = 'SourceError';
}

/** File system facts the checks need; the repository supplies the real ones, tests may too. */
export interface FileFacts {
  /** Real path with symlinks resolved; throws with code ENOENT when missing. */
  realpath(path: string): string;
  /** Size in bytes, and whether it is a regular file. */
  stat(path: string): { size: number; isFile: boolean };
}

/** Network facts the source guard needs; the repository supplies the real ones, tests may too. */
export interface NetworkFacts {
  /** Every address a host resolves to now; undefined when it cannot be resolved (yet). */
  resolve(host: string): Promise<string[] | undefined>;
  /** This machine's interface addresses (loopback included). */
  localAddresses(): Set<string>;
}

export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return text;
  }
}

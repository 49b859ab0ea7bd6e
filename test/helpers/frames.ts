// Decoded frames for model tests and benchmarks: ffmpeg seeks or samples, scales, and hands back
// packed RGB bytes.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** RGB24 bytes (size*size*3) of the frame at `seconds`, stretched to size x size (bilinear). */
export async function rgbFrame(file: string, seconds: number, size: number): Promise<Uint8Array> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-ss', String(seconds), '-i', file, '-frames:v', '1', '-vf', `scale=${size}:${size}:flags=bilinear`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    encoding: 'buffer',
    maxBuffer: 64 * 1024 * 1024,
  });
  const bytes = new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength);
  if (bytes.length !== size * size * 3) throw new Error(`${file} @${seconds}s: ffmpeg gave ${bytes.length} bytes, expected ${size * size * 3}`);
  return bytes;
}

/** A packed RGB24 frame as the models take it. */
export interface DecodedFrame {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/** Every frame of `file` at `fps`, scaled to width x height (benchmarks: synchronous, whole clip in memory). */
export function decodeFramesSync(file: string, fps: number, width: number, height: number): DecodedFrame[] {
  const raw = execFileSync('ffmpeg', ['-loglevel', 'error', '-i', file, '-vf', `fps=${fps},scale=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 1 << 30 });
  const per = width * height * 3;
  const out: DecodedFrame[] = [];
  for (let o = 0; o + per <= raw.length; o += per) out.push({ rgb: new Uint8Array(raw.buffer, raw.byteOffset + o, per), width, height });
  return out;
}

// Single decoded frames for model tests: ffmpeg seeks, stretches the frame to the model's square input
// and hands back packed RGB bytes.
import { execFile } from 'node:child_process';
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

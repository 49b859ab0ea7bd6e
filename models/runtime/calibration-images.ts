// The pictures int8 calibration runs the float detector on: real photos that ship inside the pinned
// @vladmandic/human package (its assets/: people indoors and out, a party, a kitchen, a rendered
// figure), each seen as a camera might: whole, as four zoomed quarters (objects larger), shrunk into a
// grey frame (objects small), and dark with sensor noise (a night camera). ffmpeg makes the variants,
// so nothing is downloaded. The footage engram is measured on (../shared/media) is deliberately not
// used: ranges tuned on the test clips would flatter the test.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ModelError } from './errors.js';

const run = promisify(execFile);

/** Photos in the @vladmandic/human package (relative to its folder), checked against its pinned version by the caller. */
export const CALIBRATION_PHOTOS = ['assets/samples.jpg', 'assets/screenshot-facedetect.jpg', 'assets/screenshot-faceid.jpg', 'assets/screenshot-facematch.jpg', 'assets/screenshot-vrm.jpg'] as const;

/** ffmpeg filters, one picture each, applied before the stretch to the model's square. */
export const CALIBRATION_VIEWS: Record<string, string> = {
  whole: 'null',
  'top-left': 'crop=iw/2:ih/2:0:0',
  'top-right': 'crop=iw/2:ih/2:iw/2:0',
  'bottom-left': 'crop=iw/2:ih/2:0:ih/2',
  'bottom-right': 'crop=iw/2:ih/2:iw/2:ih/2',
  small: 'scale=iw/2:ih/2,pad=iw*2:ih*2:iw/2:ih/2:gray',
  night: 'eq=brightness=-0.25:contrast=0.7,noise=alls=18:allf=t',
};

export interface CalibrationImage {
  /** "assets/samples.jpg#top-left". */
  name: string;
  /** size x size x 3 RGB bytes. */
  rgb: Uint8Array;
}

/** Every photo in every view, stretched to size x size RGB (bilinear). */
export async function calibrationImages(packageDir: string, size: number): Promise<CalibrationImage[]> {
  const out: CalibrationImage[] = [];
  for (const photo of CALIBRATION_PHOTOS) {
    const file = join(packageDir, photo);
    if (!existsSync(file)) throw new ModelError(`calibration photo ${file} is missing; run npm ci`);
    for (const [view, filter] of Object.entries(CALIBRATION_VIEWS)) {
      const { stdout } = await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', file, '-frames:v', '1', '-vf', `${filter},scale=${size}:${size}:flags=bilinear`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { encoding: 'buffer', maxBuffer: 64 << 20 }).catch((error: Error) => {
        throw new ModelError(`calibration photo ${file} (${view}): ffmpeg failed: ${error.message.split('\n')[0]}`);
      });
      if (stdout.byteLength !== size * size * 3) throw new ModelError(`calibration photo ${file} (${view}): ffmpeg gave ${stdout.byteLength} bytes, expected ${size * size * 3}`);
      out.push({ name: `${photo}#${view}`, rgb: new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength) });
    }
  }
  return out;
}

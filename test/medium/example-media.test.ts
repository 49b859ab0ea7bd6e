// Query-by-example decoding with real ffmpeg on generated media: an image file becomes RGB pixels
// of the right colour and size, a clip becomes 16 kHz mono PCM of the right length, and a file that
// is not media fails with a message that says so.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExampleMedia } from '../../pipelines/repositories/example-media.js';
import { makeTempDir } from '../helpers/env.js';

const dir = makeTempDir('engram-example-');
const signal = new AbortController().signal;
const media = new ExampleMedia({ maxImageSide: 320 });

describe('ExampleMedia', () => {
  it('decodes a PNG to RGB pixels, scaled to fit', async () => {
    const png = join(dir, 'red.png');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=red:s=640x360', '-frames:v', '1', '-y', png]);
    const image = await media.decodeImage(readFileSync(png), signal);
    expect([image.width, image.height]).toEqual([320, 180]);
    expect(image.rgb.length).toBe(320 * 180 * 3);
    const mid = (90 * 320 + 160) * 3;
    expect(image.rgb[mid]).toBeGreaterThan(200);
    expect(image.rgb[mid + 1]).toBeLessThan(40);
    expect(image.rgb[mid + 2]).toBeLessThan(40);
  });

  it('decodes a WAV to 16 kHz mono float PCM', async () => {
    const wav = join(dir, 'tone.wav');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=1.5', '-ac', '2', '-y', wav]);
    const pcm = await media.decodeAudio(readFileSync(wav), signal);
    expect(pcm.length).toBeGreaterThan(16_000 * 1.5 - 200);
    expect(pcm.length).toBeLessThan(16_000 * 1.5 + 200);
    const peak = pcm.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(peak).toBeGreaterThan(0.05);
  });

  it('refuses a file that is not media, and an empty one, naming the problem', async () => {
    await expect(media.decodeImage(Buffer.from('this is not a picture at all'), signal)).rejects.toThrow(/query image: ffmpeg could not decode it/);
    await expect(media.decodeAudio(new Uint8Array(0), signal)).rejects.toThrow('query audio: the file is empty');
    // The reason is ffmpeg's, without the temporary file's path that means nothing to the caller.
    const junk = await media.decodeAudio(Buffer.from('this is not a sound either'), signal).catch((error: Error) => error);
    expect((junk as Error).message).toMatch(/^query audio: ffmpeg could not decode it \(.+\)$/);
    expect((junk as Error).message).not.toContain('engram-example-');
  });

  it('says a picture given as a sound holds no sound', async () => {
    const png = join(dir, 'blue.png');
    execFileSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=blue:s=64x64', '-frames:v', '1', '-y', png]);
    await expect(media.decodeAudio(readFileSync(png), signal)).rejects.toThrow(/^query audio: the file holds no sound ffmpeg can read$/);
  });
});

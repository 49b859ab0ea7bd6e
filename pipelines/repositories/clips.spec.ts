// Real ffmpeg on the real camera footage: the cut is a playable MP4 of the asked span, a broken
// request is an error that names the file, and aborting stops ffmpeg.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { CAR_DETECTION } from '../../test/helpers/media.js';
import { ClipRepository } from './clips.js';

const CAR = CAR_DETECTION;
const dir = mkdtempSync(join(tmpdir(), 'engram-clip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function probe(path: string): { duration: number; codecs: string[]; width: number } {
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name,width', '-of', 'json', path], { encoding: 'utf8' })) as {
    format: { duration: string };
    streams: { codec_name: string; width?: number }[];
  };
  return { duration: Number(out.format.duration), codecs: out.streams.map((s) => s.codec_name), width: out.streams.find((s) => s.width)?.width ?? 0 };
}

describe('ClipRepository', () => {
  const clips = new ClipRepository();

  it('cuts the asked span as H.264 MP4', async () => {
    const clip = await clips.cut({ path: CAR, start: 5, duration: 3 });
    expect(clip.contentType).toBe('video/mp4');
    const file = join(dir, 'car.mp4');
    await pipeline(clip.stream, createWriteStream(file));
    const info = probe(file);
    expect(info.codecs).toContain('h264');
    expect(info.width).toBe(768);
    expect(info.duration).toBeGreaterThan(2.7);
    expect(info.duration).toBeLessThan(3.3);
  });

  it('names a missing file', async () => {
    await expect(clips.cut({ path: join(dir, 'nope.mp4'), start: 0, duration: 1 })).rejects.toThrow(/clip source .*nope\.mp4 cannot be read \(ENOENT\)/);
  });

  it('says when the span is past the end of the file', async () => {
    await expect(clips.cut({ path: CAR, start: 500, duration: 2 })).rejects.toThrow(/clip span starts at 500s but .*car-detection\.mp4 is 30\.\ds long/);
  });

  it('refuses a file that is not video', async () => {
    const path = join(dir, 'text.mp4');
    execFileSync('sh', ['-c', `echo not a video > ${path}`]);
    await expect(clips.cut({ path, start: 0, duration: 1 })).rejects.toThrow(/ffmpeg could not cut .*text\.mp4/);
  });

  it('stops ffmpeg when the caller aborts', async () => {
    const abort = new AbortController();
    const clip = await clips.cut({ path: CAR, start: 0, duration: 30, signal: abort.signal });
    const ended = new Promise<string>((resolve) => {
      clip.stream.on('error', (e) => resolve(`error: ${e.message}`));
      clip.stream.on('end', () => resolve('end'));
      clip.stream.on('close', () => resolve('close'));
    });
    clip.stream.once('data', () => abort.abort());
    clip.stream.resume();
    const started = Date.now();
    const outcome = await ended;
    // Aborted well before a full 30 s re-encode could finish.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(outcome).not.toBe('end');
  });
});

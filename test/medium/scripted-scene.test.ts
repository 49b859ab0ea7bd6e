// The scripted scene renderer with real ffmpeg and espeak-ng: the file has the scripted length,
// the scripted colours where the script puts them, speech only where the ground truth says, and
// the truth it returns matches the file.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_RENDER, renderScene, type Scene } from '../../pipelines/repositories/scripted-scene.js';
import { makeTempDir } from '../helpers/env.js';

const dir = makeTempDir('engram-scene-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCENES: Scene[] = [
  { seconds: 3, color: 'red' },
  { seconds: 3, color: 'white', text: 'DELIVERY NOTICE', textColor: 'black', speech: 'Your parcel is here.', speechAt: 0.5 },
];

function pixelAt(file: string, t: number): number[] {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-ss', String(t), '-i', file, '-frames:v', '1', '-vf', 'crop=2:2:0:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
  return [raw[0] ?? 0, raw[1] ?? 0, raw[2] ?? 0];
}

describe('renderScene', () => {
  it('renders the scripted scenes and speech at the times its ground truth gives', async () => {
    const out = join(dir, 'scene.mp4');
    const video = await renderScene(SCENES, out, { ...DEMO_RENDER, width: 320, height: 180 });
    expect(video.duration).toBe(6);
    expect(video.boundaries).toEqual([3]);
    expect(video.scenes.map((s) => [s.start, s.end, s.color, s.text])).toEqual([
      [0, 3, 'red', null],
      [3, 6, 'white', 'DELIVERY NOTICE'],
    ]);
    const speech = video.scenes[1]!.speech!;
    expect(speech.start).toBe(3.5);
    expect(speech.end).toBeGreaterThan(4);
    const duration = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', out]).toString());
    expect(duration).toBeCloseTo(6, 0);
    const [r, g, b] = pixelAt(out, 1.5);
    expect(r).toBeGreaterThan(200);
    expect(g! + b!).toBeLessThan(80);
    expect(Math.min(...pixelAt(out, 4.5))).toBeGreaterThan(200);
    const log = spawnSync('ffmpeg', ['-hide_banner', '-i', out, '-af', 'silencedetect=n=-40dB:d=0.3', '-f', 'null', '-'], { encoding: 'utf8' }).stderr;
    const speechStart = Number(/silence_end: ([\d.]+)/.exec(log)?.[1]);
    expect(Math.abs(speechStart - speech.start)).toBeLessThan(0.3);
  });

  it('refuses a script it cannot render, naming the scene', async () => {
    await expect(renderScene([{ seconds: 1, color: 'red', text: 'two\nlines' }], join(dir, 'bad.mp4'))).rejects.toThrow(/scene 0 text must be one line/);
    await expect(renderScene([{ seconds: 1, color: 'red', speech: 'This sentence is far too long to be spoken in one second of video.' }], join(dir, 'long.mp4'))).rejects.toThrow(/scene 0 is 1 s but its sentence needs/);
  });
});

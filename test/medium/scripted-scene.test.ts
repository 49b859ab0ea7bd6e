// The scripted scene renderer with real ffmpeg and espeak-ng: the file has the scripted length,
// the scripted colours where the script puts them, and speech only where the script says.
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_SCRIPT, renderScene, sceneSpans, type SceneScript } from '../../pipelines/repositories/scripted-scene.js';
import { makeTempDir } from '../helpers/env.js';

const dir = makeTempDir('engram-scene-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCRIPT: SceneScript = {
  width: 320,
  height: 180,
  scenes: [
    { durationS: 3, colour: 'red' },
    { durationS: 3, colour: 'white', text: 'DELIVERY NOTICE' },
  ],
  speech: [{ atS: 3.5, text: 'Your parcel is here.' }],
};

function pixelAt(file: string, t: number): number[] {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-ss', String(t), '-i', file, '-frames:v', '1', '-vf', 'crop=2:2:0:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
  return [raw[0] ?? 0, raw[1] ?? 0, raw[2] ?? 0];
}

describe('renderScene', () => {
  it('renders the scripted scenes and speech at their times', async () => {
    const out = join(dir, 'scene.mp4');
    await renderScene(SCRIPT, out);
    const duration = Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', out]).toString());
    expect(duration).toBeCloseTo(6, 0);
    const [r, g, b] = pixelAt(out, 1.5);
    expect(r).toBeGreaterThan(200);
    expect(g! + b!).toBeLessThan(80);
    expect(Math.min(...pixelAt(out, 4.5))).toBeGreaterThan(200);
    const log = spawnSync('ffmpeg', ['-hide_banner', '-i', out, '-af', 'silencedetect=n=-40dB:d=0.3', '-f', 'null', '-'], { encoding: 'utf8' }).stderr;
    const speechStart = Number(/silence_end: ([\d.]+)/.exec(log)?.[1]);
    expect(Math.abs(speechStart - 3.5)).toBeLessThan(0.3);
  });

  it('gives the spans of the demo scenes and refuses text drawtext cannot take as written', async () => {
    expect(sceneSpans(DEMO_SCRIPT).map((s) => [s.start, s.end])[1]).toEqual([15, 30]);
    await expect(renderScene({ ...SCRIPT, speech: [], scenes: [{ durationS: 1, colour: 'red', text: "it's: 100%" }] }, join(dir, 'bad.mp4'))).rejects.toThrow(/use letters, digits, spaces/);
  });
});

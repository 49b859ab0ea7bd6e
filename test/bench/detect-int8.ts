// The int8 detector (centernet-coco-int8, quantized by engram's models/convert/quantize.ts) against
// the float one (centernet-coco) on the footage in ../shared/media, in one process: CPU seconds per
// call of each (alternating on the same keyframes), and per clip the detections each keeps, matched by
// label and IoU >= 0.5, with the score differences of the matched ones. Twice: with engram's default
// detect filter (what reaches memory) and with every row scoring 0.1 or more (the raw agreement).
// Measuring on these clips is fine; calibration never saw them (models/runtime/calibration-images.ts).
// Setup makes the int8 graph only when models.detector names it: run `npx engram models convert
// centernet-coco-int8` first (else the bench stops on the not-installed warning).
// Prints JSON.   npx tsx test/bench/detect-int8.ts [--rounds 3] [--fps 2]
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../../config/load.js';
import { ConfigSchema, type DetectOptions } from '../../config/schema.js';
import { boxIou, type ObjectBox } from '../../models/runtime/detections.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { decodeFramesSync, type DecodedFrame } from '../helpers/frames.js';
import { BOTTLE_DETECTION, CAR_DETECTION, SHARED_MEDIA } from '../helpers/media.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, fps: { type: 'string', default: '2' } } });
const rounds = Number(values.rounds);
const fps = Number(values.fps);
const config = ConfigSchema.parse({});
const RAW: DetectOptions = { ...config.detect, minScore: 0.1, thresholds: {}, maxPerFrame: 100 };

type Frame = DecodedFrame;
const decode = (file: string, width: number, height: number): Frame[] => decodeFramesSync(file, fps, width, height);

const clips: [string, Frame[]][] = [
  ['car-detection', decode(CAR_DETECTION, 640, 360)],
  ['bottle-detection', decode(BOTTLE_DETECTION, 640, 360)],
  ...readdirSync(join(SHARED_MEDIA, 'people'))
    .filter((f) => f.endsWith('.mkv'))
    .sort()
    .map((f): [string, Frame[]] => [`people/${f}`, decode(join(SHARED_MEDIA, 'people', f), 640, 480)]),
];

const open = (detector: string) => ModelRepository.open({ config: { ...config.models, detector }, paths: { modelsDir: join(packageRoot(), 'data/models') }, log: { info() {}, warn(_o: object, m: string) { throw new Error(m); } } });
const fp32 = await open('centernet-coco');
const int8 = await open('centernet-coco-int8');

const cpuOf = async (fn: () => Promise<unknown>) => {
  const before = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
};
const sample = clips.flatMap(([, frames]) => frames.filter((_f, i) => i % 8 === 0));
await fp32.detectObjects([sample[0]!], config.detect);
await int8.detectObjects([sample[0]!], config.detect);
const cpu = { fp32: [] as number[], int8: [] as number[] };
for (let r = 0; r < rounds; r += 1) {
  for (const f of sample) {
    cpu.fp32.push(await cpuOf(() => fp32.detectObjects([f], config.detect)));
    cpu.int8.push(await cpuOf(() => int8.detectObjects([f], config.detect)));
  }
}
const median = (v: number[]) => +[...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!.toFixed(4);

/** fp32's detections matched in int8's (same label, IoU >= 0.5), and the int8 - fp32 score of each match. */
function agreement(a: ObjectBox[][], b: ObjectBox[][]) {
  let matched = 0, onlyFp32 = 0, onlyInt8 = 0;
  const diffs: number[] = [];
  const lost: string[] = [];
  a.forEach((list, i) => {
    const other = [...(b[i] ?? [])];
    for (const d of list) {
      let best = -1;
      for (const [j, o] of other.entries()) if (o.label === d.label && boxIou(o.box, d.box) >= 0.5 && (best < 0 || boxIou(o.box, d.box) > boxIou(other[best]!.box, d.box))) best = j;
      if (best >= 0) {
        matched += 1;
        diffs.push(other[best]!.score - d.score);
        other.splice(best, 1);
      } else {
        onlyFp32 += 1;
        lost.push(`${(i / fps).toFixed(1)}s ${d.label} ${d.score.toFixed(3)}`);
      }
    }
    onlyInt8 += other.length;
  });
  const abs = diffs.map(Math.abs).sort((x, y) => x - y);
  return {
    fp32: matched + onlyFp32,
    matched,
    onlyFp32,
    onlyInt8,
    scoreDiff: diffs.length ? { mean: +(diffs.reduce((s, v) => s + v, 0) / diffs.length).toFixed(4), medianAbs: +abs[Math.floor(abs.length / 2)]!.toFixed(4), maxAbs: +abs[abs.length - 1]!.toFixed(4) } : null,
    lost: lost.slice(0, 12),
  };
}

const perClip = [];
for (const [name, frames] of clips) {
  perClip.push({
    clip: name,
    keyframes: frames.length,
    defaultFilter: agreement(await fp32.detectObjects(frames, config.detect), await int8.detectObjects(frames, config.detect)),
    allAbove01: agreement(await fp32.detectObjects(frames, RAW), await int8.detectObjects(frames, RAW)),
  });
}
await fp32.close();
await int8.close();
console.log(JSON.stringify({ load: loadavg().map((v) => +v.toFixed(2)), rounds, fps, cpuSecondsPerCall: { fp32: median(cpu.fp32), int8: median(cpu.int8), ratio: +(median(cpu.int8) / median(cpu.fp32)).toFixed(3), calls: cpu.fp32.length }, clips: perClip }, null, 1));

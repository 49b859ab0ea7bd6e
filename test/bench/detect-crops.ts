// The detector's crop graph (centernet-coco-320) against the frame detector (centernet-coco, 512x512)
// on the footage in ../shared/media, in one process: CPU seconds per call of each (alternating), how
// the 320 graph on the whole frame compares with the 512 one (is it good enough alone?), and, with
// the detector gated as perceive gates it (1 keyframe a second, default gating), the share of runs
// that became crops and how the crop results compare with a whole-frame run on the same keyframe.
// Prints JSON.   npx tsx test/bench/detect-crops.ts [--rounds 5]
import { readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../../config/load.js';
import { ConfigSchema } from '../../config/schema.js';
import { boxIou, type ObjectBox } from '../../models/runtime/detections.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { changedArea, changedBox, greyCopy, type GreyFrame } from '../../pipelines/perceive/change-signal.js';
import { detectWindow, mergeWindow } from '../../pipelines/perceive/detect-window.js';
import { decodeFramesSync, type DecodedFrame } from '../helpers/frames.js';
import { BOTTLE_DETECTION, CAR_DETECTION, SHARED_MEDIA } from '../helpers/media.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);
const config = ConfigSchema.parse({});
const gating = config.perceive.gating;

type Frame = DecodedFrame;
const decode = decodeFramesSync;

const clips: [string, Frame[]][] = [
  ['car-detection', decode(CAR_DETECTION, 1, 640, 360)],
  ['bottle-detection', decode(BOTTLE_DETECTION, 1, 640, 360)],
  ...readdirSync(join(SHARED_MEDIA, 'people'))
    .filter((f) => f.endsWith('.mkv'))
    .sort()
    .slice(0, 3)
    .map((f): [string, Frame[]] => [`people/${f}`, decode(join(SHARED_MEDIA, 'people', f), 1, 640, 480)]),
];

const models = await ModelRepository.open({ config, paths: { modelsDir: join(packageRoot(), 'data/models') }, log: { info() {}, warn() {} } });
const sizes = models.detectorSizes();
if (!sizes?.crop) throw new Error('centernet-coco and centernet-coco-320 must be installed in data/models (npm run setup, or engram models convert)');
const crop = sizes.crop;
const whole = (f: Frame) => ({ frame: f, window: { x: 0, y: 0, w: f.width, h: f.height } });

// Per-call CPU, alternating the two graphs on the same keyframes.
const sample = clips.flatMap(([, frames]) => frames.slice(0, 4));
await models.detectObjects([sample[0]!], config.detect);
await models.detectObjectsIn([whole(sample[0]!)], config.detect);
const cpu = { frame512: [] as number[], crop320: [] as number[] };
const cpuOf = async (fn: () => Promise<unknown>) => {
  const before = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1e6;
};
for (let r = 0; r < rounds; r += 1) {
  for (const f of sample) {
    cpu.frame512.push(await cpuOf(() => models.detectObjects([f], config.detect)));
    cpu.crop320.push(await cpuOf(() => models.detectObjectsIn([{ frame: f, window: { x: 0, y: 0, w: Math.round(f.width * 0.6), h: Math.round(f.height * 0.6) } }], config.detect)));
  }
}
const median = (v: number[]) => +[...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!.toFixed(4);

/** Detections of b matching one of a (same label, IoU over 0.5), over all of a and all of b. */
function agreement(a: ObjectBox[][], b: ObjectBox[][]) {
  let matched = 0, onlyA = 0, onlyB = 0;
  a.forEach((list, i) => {
    const other = [...(b[i] ?? [])];
    for (const d of list) {
      const j = other.findIndex((o) => o.label === d.label && boxIou(o.box, d.box) > 0.5);
      if (j >= 0) {
        matched += 1;
        other.splice(j, 1);
      } else onlyA += 1;
    }
    onlyB += other.length;
  });
  return { matched, only512: onlyA, onlyOther: onlyB };
}

const perClip = [];
for (const [name, frames] of clips) {
  const full = await models.detectObjects(frames, config.detect);
  const small: ObjectBox[][] = [];
  for (const f of frames) small.push((await models.detectObjectsIn([whole(f)], config.detect))[0]!);
  // Gated as perceive gates it: run on change since the last run or on refresh; crop where the change fits.
  let ref: { t: number; grey: GreyFrame; result: ObjectBox[] } | undefined;
  let runs = 0, crops = 0;
  const gatedResult: ObjectBox[][] = [];
  const cropIdx: number[] = [];
  for (const [t, f] of frames.entries()) {
    const grey = greyCopy(f, gating.width);
    if (ref && t - ref.t < gating.detect.refreshSeconds && changedArea(grey, ref.grey, gating.pixelThreshold) < gating.minArea) {
      gatedResult.push(ref.result);
      continue;
    }
    runs += 1;
    const box = ref && t - ref.t < gating.detect.refreshSeconds ? changedBox(grey, ref.grey, gating.pixelThreshold) : null;
    const sx = f.width / grey.width, sy = f.height / grey.height;
    const window = box && ref ? detectWindow([Math.floor(box[0] * sx), Math.floor(box[1] * sy), Math.ceil(box[2] * sx), Math.ceil(box[3] * sy)], ref.result, f, { frame: sizes.frame, crop }) : undefined;
    let result: ObjectBox[];
    if (window && ref) {
      crops += 1;
      cropIdx.push(t);
      result = mergeWindow(window, (await models.detectObjectsIn([{ frame: f, window }], config.detect))[0]!, ref.result, config.detect.maxPerFrame);
    } else result = full[t]!;
    gatedResult.push(result);
    ref = { t, grey, result };
  }
  perClip.push({
    clip: name,
    keyframes: frames.length,
    frame: `${frames[0]!.width}x${frames[0]!.height}`,
    wholeFrame320vs512: agreement(full, small),
    gated: { runs, crops, cropShare: runs ? +(crops / runs).toFixed(3) : 0, cropKeyframes: cropIdx },
    cropRunsVs512: agreement(cropIdx.map((i) => full[i]!), cropIdx.map((i) => gatedResult[i]!)),
    gatedVsUngated512: agreement(full, gatedResult),
  });
}
await models.close();
console.log(JSON.stringify({ load: loadavg().map((v) => +v.toFixed(2)), rounds, cpuSecondsPerCall: { frame512: median(cpu.frame512), crop320: median(cpu.crop320), ratio: +(median(cpu.crop320) / median(cpu.frame512)).toFixed(3) }, clips: perClip }, null, 1));

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { convertTfjsGraph } from '../convert/convert.js';
import { stretchHwc } from '../preprocess/image.js';
import { CAR_DETECTION } from '../../test/helpers/media.js';
import { decodeCenternetMaps } from './centernet-maps.js';
import { humanPackageDir, readTfjsFiles } from './convert-installed.js';

describe('decodeCenternetMaps', () => {
  it('keeps 3x3 peaks per class, best first, boxes from the cell centre times the stride', () => {
    // 3x3 map, 2 classes: class 0 peaks at (1,1) with 0.9 (its neighbour 0.8 is not a peak), class 1 at (2,0) with 0.5.
    const heat = new Float32Array(3 * 3 * 2);
    heat[(1 * 3 + 1) * 2] = 0.9;
    heat[(1 * 3 + 2) * 2] = 0.8;
    heat[(0 * 3 + 2) * 2 + 1] = 0.5;
    const sizes = new Float32Array(3 * 3 * 4).fill(2);
    const rows = decodeCenternetMaps({ heatmap: heat, sizes, height: 3, width: 3, classes: 2, stride: 4 }, 0.1);
    expect([...rows].map((v) => Math.round(v * 100) / 100)).toEqual([2, 2, 6, 6, 0.9, 0, 6, -2, 10, 2, 0.5, 1]);
    expect(decodeCenternetMaps({ heatmap: heat, sizes, height: 3, width: 3, classes: 2, stride: 4 }, 0.6).length).toBe(6);
    expect(decodeCenternetMaps({ heatmap: heat, sizes, height: 3, width: 3, classes: 2, stride: 4 }, 0.1, 1).length).toBe(6);
  });

  it('gives the rows of the converted graph’s own top-100 decode on a real keyframe', { timeout: 60_000 }, async () => {
    const graph = readTfjsFiles(join(humanPackageDir(), 'models', 'centernet.json'), 'centernet-coco');
    const session = await ort.InferenceSession.create(convertTfjsGraph(graph, { batch: 1 }).onnx, { logSeverityLevel: 3 });
    const rgb = new Uint8Array(execFileSync('ffmpeg', ['-loglevel', 'error', '-ss', '17', '-i', CAR_DETECTION, '-frames:v', '1', '-vf', 'scale=640:360', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']));
    const input = new Float32Array(512 * 512 * 3);
    stretchHwc({ rgb, width: 640, height: 360 }, 512, input, 0);
    const out = await session.run({ 'tower_0/images': new ort.Tensor('float32', input, [1, 512, 512, 3]) });
    await session.release();
    const graphRows = (out['tower_0/detections'] as ort.Tensor).data as Float32Array;
    const floor = 0.05;
    const ours = decodeCenternetMaps({ heatmap: (out['tower_0/keypoints'] as ort.Tensor).data as Float32Array, sizes: (out['tower_0/wh'] as ort.Tensor).data as Float32Array, height: 128, width: 128, classes: 80, stride: 4 }, floor);
    const theirs: number[] = [];
    for (let r = 0; r < 100; r += 1) if ((graphRows[r * 6 + 4] as number) >= floor) theirs.push(...graphRows.subarray(r * 6, r * 6 + 6));
    expect(theirs.length).toBeGreaterThanOrEqual(6 * 3);
    expect(ours.length).toBe(theirs.length);
    ours.forEach((v, i) => expect(v).toBeCloseTo(theirs[i] as number, 3));
  });
});

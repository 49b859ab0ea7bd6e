// Decoding the detector's rows on hand-made output: thresholds per label, kept labels, boxes back
// in the frame's pixels, one box per object (same label or not), best first.
import { describe, expect, it } from 'vitest';
import { stretchHwc } from '../preprocess/image.js';
import { decodeDetections, type DetectionFilter } from './detections.js';

const LABELS = ['person', 'bicycle', 'car', 'chair', 'bottle'];
const filter: DetectionFilter = { labels: [], minScore: 0.4, thresholds: { car: 0.12, bottle: 0.25 }, nmsIou: 0.5, sameObjectIou: 0.7, maxPerFrame: 50 };
const rows = (...r: number[][]) => Float32Array.from(r.flat());

describe('decodeDetections', () => {
  it('maps boxes from the 512 square to the frame, applies each label’s threshold, best first', () => {
    const out = decodeDetections(
      rows([0, 0, 256, 512, 0.8, 0], [256, 256, 512, 512, 0.13, 2], [100, 100, 200, 200, 0.3, 0], [300, 0, 400, 100, 0.11, 2], [10, 10, 20, 20, 0.26, 4]),
      { width: 640, height: 360 },
      512,
      LABELS,
      filter,
    );
    expect(out).toEqual([
      { label: 'person', score: 0.8, box: [0, 0, 320, 360] },
      { label: 'bottle', score: 0.26, box: [12.5, 7, 25, 14.1] },
      { label: 'car', score: 0.13, box: [320, 180, 640, 360] },
    ]);
  });

  it('keeps one box per object: overlapping boxes of a label, and one box named two ways', () => {
    const out = decodeDetections(
      rows([0, 0, 100, 100, 0.9, 0], [5, 5, 100, 100, 0.7, 0], [200, 0, 300, 100, 0.6, 0], [400, 400, 500, 500, 0.3, 3], [400, 400, 500, 502, 0.2, 2]),
      { width: 512, height: 512 },
      512,
      LABELS,
      filter,
    );
    // The car box is the (unreported, below 0.4) chair's box: the model thought it more a chair.
    expect(out.map((d) => [d.label, d.score])).toEqual([['person', 0.9], ['person', 0.6]]);
  });

  it('keeps only the configured labels, drops unknown classes, empty and padded rows, and caps the count', () => {
    const input = rows([0, 0, 10, 10, 0.9, 0], [20, 20, 30, 30, 0.9, 4], [0, 0, 10, 10, 0.9, 77], [5, 5, 5, 9, 0.9, 2], [0, 0, 0, 0, 0, 0]);
    expect(decodeDetections(input, { width: 512, height: 512 }, 512, LABELS, { ...filter, labels: ['bottle'] }).map((d) => d.label)).toEqual(['bottle']);
    expect(decodeDetections(input, { width: 512, height: 512 }, 512, LABELS, { ...filter, maxPerFrame: 1 })).toHaveLength(1);
  });
});

describe('stretchHwc', () => {
  it('stretches the whole frame as TF.js resizeBilinear does (no half-pixel centres), RGB 0..255', () => {
    // 2x1 frame: red then blue; stretched to 4x4 the columns read 0, 0.5, 1, 1.5->clamped.
    const frame = { rgb: Uint8Array.from([255, 0, 0, 0, 0, 255]), width: 2, height: 1 };
    const out = new Float32Array(4 * 4 * 3);
    stretchHwc(frame, 4, out, 0);
    const row = Array.from(out.subarray(0, 12));
    expect(row).toEqual([255, 0, 0, 127.5, 0, 127.5, 0, 0, 255, 0, 0, 255]);
    expect(Array.from(out.subarray(36, 48))).toEqual(row);
  });

  it('samples a window of the frame as it would the window cut out alone (whole scale), and the whole frame as before', () => {
    const frame = { rgb: Uint8Array.from({ length: 16 * 12 * 3 }, (_v, i) => (i * 37) % 251), width: 16, height: 12 };
    const window = { x: 4, y: 2, w: 8, h: 8 };
    const cut = new Uint8Array(8 * 8 * 3);
    for (let y = 0; y < 8; y += 1) cut.set(frame.rgb.subarray(((y + 2) * 16 + 4) * 3, ((y + 2) * 16 + 12) * 3), y * 8 * 3);
    const [a, b] = [new Float32Array(4 * 4 * 3), new Float32Array(4 * 4 * 3)];
    stretchHwc(frame, 4, a, 0, window);
    stretchHwc({ rgb: cut, width: 8, height: 8 }, 4, b, 0);
    expect(Array.from(a)).toEqual(Array.from(b));
    const [c, d] = [new Float32Array(5 * 5 * 3), new Float32Array(5 * 5 * 3)];
    stretchHwc(frame, 5, c, 0);
    stretchHwc(frame, 5, d, 0, { x: 0, y: 0, w: 16, h: 12 });
    expect(Array.from(d)).toEqual(Array.from(c));
  });
});

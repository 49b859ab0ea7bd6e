import { describe, expect, it } from 'vitest';
import { blazefaceAnchors, decodeFaces } from './face-detections.js';

describe('blazeface decoding', () => {
  const anchors = blazefaceAnchors(256);

  it('lays out 896 anchors: 16x16 cells x 2, then 8x8 cells x 6', () => {
    expect(anchors.length / 2).toBe(896);
    expect([anchors[0], anchors[1]]).toEqual([8, 8]);
    expect([anchors[2 * 512], anchors[2 * 512 + 1]]).toEqual([16, 16]);
    expect([anchors[2 * 895], anchors[2 * 895 + 1]]).toEqual([240, 240]);
  });

  it('decodes a box and landmarks relative to its anchor, into frame pixels, and suppresses overlaps', () => {
    const scores = new Float32Array(896).fill(-10);
    const regs = new Float32Array(896 * 16);
    // Anchor 600 (second head): a 64x48 face centred 4 px right of the anchor, eyes 10 px either side.
    const put = (i: number, logit: number, dx: number) => {
      scores[i] = logit;
      regs.set([dx, 0, 64, 48, -10, -5, 10, -5, 0, 0, 0, 10, -20, 0, 20, 0], i * 16);
    };
    put(600, 3, 4);
    put(601, 2, 5); // same cell: the same face, weaker
    const [ax, ay] = [anchors[1200]!, anchors[1201]!];
    const frame = { width: 512, height: 256 };
    const faces = decodeFaces(scores, regs, anchors, 256, frame, { minScore: 0.5, nmsIou: 0.3, maxFaces: 5 });
    expect(faces).toHaveLength(1);
    const face = faces[0]!;
    expect(face.score).toBeCloseTo(1 / (1 + Math.exp(-3)), 5);
    expect(face.box).toEqual([(ax + 4 - 32) * 2, ay - 24, (ax + 4 + 32) * 2, ay + 24]);
    expect(face.landmarks[0]).toEqual([(ax - 10) * 2, ay - 5]);
    expect(face.landmarks[1]).toEqual([(ax + 10) * 2, ay - 5]);
  });

  it('returns nothing below the score threshold', () => {
    const faces = decodeFaces(new Float32Array(896).fill(0), new Float32Array(896 * 16).fill(10), anchors, 256, { width: 256, height: 256 }, { minScore: 0.6, nmsIou: 0.3, maxFaces: 5 });
    expect(faces).toEqual([]);
  });
});

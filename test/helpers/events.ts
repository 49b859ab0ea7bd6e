// Synthetic closed events shaped like the segment stage's (one keyframe moment per second, mean
// vectors per space), from a seeded generator so a test sees the same data every run.
import { eventId, type ClosedEvent, type MomentRecord } from '../../pipelines/records/event.js';

/** mulberry32: a small seeded PRNG. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function unitVector(dims: number, rand: () => number): Float32Array {
  const v = new Float32Array(dims);
  let n = 0;
  for (let i = 0; i < dims; i += 1) {
    const x = rand() * 2 - 1;
    v[i] = x;
    n += x * x;
  }
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < dims; i += 1) v[i] = (v[i] as number) * s;
  return v;
}

/** `base` plus noise of relative size `amount`, renormalised. */
export function near(base: Float32Array, amount: number, rand: () => number): Float32Array {
  const noise = unitVector(base.length, rand);
  const v = new Float32Array(base.length);
  let n = 0;
  for (let i = 0; i < v.length; i += 1) {
    v[i] = (base[i] as number) + amount * (noise[i] as number);
    n += (v[i] as number) ** 2;
  }
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < v.length; i += 1) v[i] = (v[i] as number) * s;
  return v;
}

export interface SyntheticOptions {
  stream?: string;
  /** Stream seconds. */
  start: number;
  length?: number;
  /** Wall-clock epoch ms of stream second 0. */
  epoch?: number;
  space?: string;
  dims?: number;
  /** The scene's vector; moments are near it. Random when omitted. */
  scene?: Float32Array;
  /** Noise of each moment around the scene. @defaultValue 0.3 */
  noise?: number;
  transcript?: string;
  ocr?: string;
  tags?: string[];
  novelty?: number;
  /** Blob path pattern for keyframe thumbnails; none when omitted. */
  thumbnails?: (t: number) => string;
  seed?: number;
}

export const EPOCH = Date.UTC(2026, 10, 28, 9, 0, 0);

export function syntheticEvent(o: SyntheticOptions): ClosedEvent {
  const stream = o.stream ?? 'cam';
  const length = o.length ?? 10;
  const dims = o.dims ?? 512;
  const space = o.space ?? 'clip';
  const epoch = o.epoch ?? EPOCH;
  const rand = seeded(o.seed ?? Math.round(o.start * 1000) + 17);
  const scene = o.scene ?? unitVector(dims, rand);
  const moments: MomentRecord[] = [];
  for (let t = o.start; t < o.start + length - 1e-9; t += 1) {
    moments.push({ kind: 'keyframe', t, vectors: { [space]: near(scene, o.noise ?? 0.3, rand) }, thumbnail: o.thumbnails ? o.thumbnails(t) : null });
  }
  const mean = new Float32Array(dims);
  for (const m of moments) {
    const v = m.vectors[space] as Float32Array;
    for (let i = 0; i < dims; i += 1) mean[i] = (mean[i] as number) + (v[i] as number) / moments.length;
  }
  const end = o.start + length;
  return {
    id: eventId(stream, o.start),
    stream,
    start: o.start,
    end,
    startedAt: epoch + o.start * 1000,
    endedAt: epoch + end * 1000,
    transcript: o.transcript ? [{ start: o.start + 1, end: o.start + 3, text: o.transcript }] : [],
    ocr: o.ocr ? [{ t: o.start, text: o.ocr, confidence: 0.9 }] : [],
    tags: o.tags ?? ['motion-low'],
    vectors: { [space]: mean },
    moments,
    thumbnail: moments[0]?.thumbnail ?? null,
    novelty: o.novelty ?? 0.5,
    closedBy: 'surprise',
  };
}

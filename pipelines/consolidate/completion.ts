// Pattern separation (drop near-duplicate moments) and pattern completion (merge an event into
// the previous one when it continues the same scene), as pure functions over records.
import type { MomentRecord } from '../records/event.js';
import { cosine, meanBySpace, toF32Set } from '../vectors.js';

/**
 * Keeps a moment unless, in every space it shares with the last kept moment of the same kind, its
 * vector is above `threshold` cosine to it. Moments with thumbnails are never all dropped: the first
 * of each kind is always kept.
 */
export function separateMoments(moments: readonly MomentRecord[], threshold: number): MomentRecord[] {
  const kept: MomentRecord[] = [];
  const last = new Map<string, Record<string, Float32Array>>();
  for (const m of [...moments].sort((a, b) => a.t - b.t)) {
    const vectors = toF32Set(m.vectors);
    const previous = last.get(m.kind);
    let duplicate = false;
    if (previous) {
      const shared = Object.keys(vectors).filter((s) => previous[s]);
      duplicate = shared.length > 0 && shared.every((s) => cosine(vectors[s] as Float32Array, previous[s] as Float32Array) > threshold);
    }
    if (!duplicate) {
      kept.push(m);
      last.set(m.kind, vectors);
    }
  }
  return kept;
}

export interface MergeCandidate {
  stream: string;
  start: number;
  end: number;
  vectors: Record<string, Float32Array>;
}

export interface MergeRule {
  similarity: number;
  maxGapSeconds: number;
  maxSeconds: number;
}

/**
 * Whether `next` continues `previous`: same stream, starts within the gap after it ends, the merged
 * event stays under the maximum length, and in every space both have, the mean vectors are at
 * least `similarity` alike (and they share at least one space).
 */
export function continuesScene(previous: MergeCandidate, next: MergeCandidate, rule: MergeRule): boolean {
  if (previous.stream !== next.stream) return false;
  const gap = next.start - previous.end;
  if (gap > rule.maxGapSeconds || next.start < previous.start) return false;
  if (Math.max(previous.end, next.end) - previous.start > rule.maxSeconds) return false;
  const shared = Object.keys(next.vectors).filter((s) => previous.vectors[s]);
  if (shared.length === 0) return false;
  return shared.every((s) => cosine(previous.vectors[s] as Float32Array, next.vectors[s] as Float32Array) >= rule.similarity);
}

/** Mean vectors of a merged event, weighted by how many moments each side had. */
export function mergedVectors(a: Record<string, Float32Array>, aWeight: number, b: Record<string, Float32Array>, bWeight: number): Record<string, Float32Array> {
  return meanBySpace([a, b], [Math.max(1, aWeight), Math.max(1, bWeight)]);
}

/** Joins texts without repeating a piece already present (OCR repeats across keyframes). */
export function joinDistinct(parts: readonly string[], separator: string): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of parts) {
    for (const piece of raw.split(separator)) {
      const p = piece.trim();
      if (p && !seen.has(p.toLowerCase())) {
        seen.add(p.toLowerCase());
        out.push(p);
      }
    }
  }
  return out.join(separator);
}

export function unionTags(...lists: readonly string[][]): string[] {
  return [...new Set(lists.flat().filter((t) => /^[^\s]+$/.test(t)))];
}

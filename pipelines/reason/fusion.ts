// Reciprocal-rank fusion of the ranked lists that retrieval produces (full-text, and one vector
// search per embedding space and table), with per-source weights. Ranks, not raw scores, are fused:
// a BM25 score, a CLIP cosine and a MiniLM cosine live on different scales, but "first in its list"
// means the same in each.
import { QuestionType } from './question.js';

/** How a text question is compared with memory in one source. */
export enum SourceKind {
  /** Full-text over summary, transcript and on-screen text. */
  FullText = 'fulltext',
  /** The question through a text encoder aligned with images (CLIP family), against image vectors. */
  ImageText = 'image-text',
  /** The question through a text encoder aligned with audio (CLAP family), against audio vectors. */
  AudioText = 'audio-text',
  /** The question through a sentence encoder, against sentence vectors of summaries. */
  Sentence = 'sentence',
  /** An example image or audio clip, against vectors of the same space. */
  Example = 'example',
}

export interface SourceWeights {
  fullText: number;
  imageText: number;
  audioText: number;
  sentence: number;
  example: number;
  /** Multiplier for hits that came from the episodes table (summaries over many events). */
  episodes: number;
  /** Multiplier for hits that came from the moments table (single keyframes or audio windows). */
  moments: number;
}

/**
 * Default weights, and why:
 * - fullText 1.0: a question's words found in what was said or written is the most precise evidence
 *   engram has; it never matches by accident of an embedding.
 * - sentence 0.8: summaries compared by meaning; robust to paraphrase, blurrier than exact words.
 * - imageText 0.7: CLIP-style text-to-image similarity finds scenes by description but ranks coarsely.
 * - audioText 0.5: CLAP-style text-to-sound similarity is the coarsest of the encoders.
 * - example 1.0: query by example compares like with like in one space.
 * - episodes 0.5: an episode points at a stretch of time, not at the moment that answers.
 * - moments 0.8: a single keyframe or window is precise but noisier than its event's mean vector.
 */
export const DEFAULT_WEIGHTS: SourceWeights = {
  fullText: 1.0,
  imageText: 0.7,
  audioText: 0.5,
  sentence: 0.8,
  example: 1.0,
  episodes: 0.5,
  moments: 0.8,
};

/**
 * HippoMM-style routing: a visual question leans on image similarity and on-screen text, an audio
 * question on sound and transcript, a summary question on episodes. Routing multiplies the base
 * weights; it never zeroes a source, because a hint can be wrong ("what did the sign say").
 */
export function routedWeight(kind: SourceKind, table: 'events' | 'moments' | 'episodes', type: QuestionType, weights: SourceWeights): number {
  const base =
    kind === SourceKind.FullText
      ? weights.fullText
      : kind === SourceKind.ImageText
        ? weights.imageText
        : kind === SourceKind.AudioText
          ? weights.audioText
          : kind === SourceKind.Sentence
            ? weights.sentence
            : weights.example;
  let routed = base;
  if (type === QuestionType.Visual) routed *= kind === SourceKind.ImageText ? 1.5 : kind === SourceKind.AudioText ? 0.5 : 1;
  if (type === QuestionType.Audio) routed *= kind === SourceKind.AudioText ? 1.5 : kind === SourceKind.ImageText ? 0.5 : 1;
  const tableFactor = table === 'episodes' ? weights.episodes * (type === QuestionType.Summary ? 2 : 1) : table === 'moments' ? weights.moments : 1;
  return routed * tableFactor;
}

export interface RankedList {
  /** A name for logs and evidence, e.g. "vector:events:clip-vit-b32" or "fulltext:events". */
  source: string;
  weight: number;
  /** Event ids, best first. A moment or episode hit is mapped to its event(s) before fusion. */
  ids: readonly string[];
}

export interface FusedHit {
  id: string;
  score: number;
  /** 0..1: the fused score over the best score possible with these lists (first everywhere). */
  consensus: number;
  /** Rank (1-based) of this id in each list that had it. */
  ranks: Record<string, number>;
}

/**
 * Weighted reciprocal-rank fusion: score(d) = sum over lists s of w_s / (k + rank_s(d)). k (60 in
 * Cormack et al.) flattens the difference between rank 1 and rank 2 so one list cannot dominate.
 * Ties break on the id so results are deterministic.
 */
export function fuseByRank(lists: readonly RankedList[], k: number): FusedHit[] {
  const scores = new Map<string, FusedHit>();
  let best = 0;
  for (const list of lists) {
    if (list.ids.length === 0 || list.weight <= 0) continue;
    best += list.weight / (k + 1);
    const seen = new Set<string>();
    let rank = 0;
    for (const id of list.ids) {
      // An id listed twice in one list (two moments of one event) counts once, at its best rank.
      if (seen.has(id)) continue;
      seen.add(id);
      rank += 1;
      let hit = scores.get(id);
      if (!hit) {
        hit = { id, score: 0, consensus: 0, ranks: {} };
        scores.set(id, hit);
      }
      hit.score += list.weight / (k + rank);
      hit.ranks[list.source] = rank;
    }
  }
  const fused = [...scores.values()];
  for (const hit of fused) hit.consensus = best > 0 ? hit.score / best : 0;
  fused.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return fused;
}

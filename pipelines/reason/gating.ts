// Two-stage retrieval gates (HippoMM, HCAM): answer from summaries and events when the first stage
// is confident, look at perceptual detail (moments) when it is not. Confidence is measured on the
// best fused hit in terms a person can check: how many of the question's words its text contains,
// and how similar its vectors are, against thresholds that say what "similar" means per space.

export enum Stage {
  /** Confident: answer from events and episodes alone. */
  Events = 'events',
  /** Unsure: search moments, but only inside the top events' time spans, to pin the moment down. */
  LocalDetail = 'local-detail',
  /** Not confident: search moments across the whole filtered range; the answer may live there. */
  GlobalDetail = 'global-detail',
}

export interface GateSettings {
  /** At or above: answer from events and summaries. @defaultValue 0.7 */
  confidentAt: number;
  /** Below: search moments everywhere in range. @defaultValue 0.5 */
  escalateBelow: number;
}

export const DEFAULT_GATES: GateSettings = { confidentAt: 0.7, escalateBelow: 0.5 };

export interface SimilarityScale {
  /** Cosine below which a vector hit is not evidence at all. */
  min: number;
  /** Cosine at which a vector hit counts as a sure match. */
  strong: number;
}

/** A cosine similarity mapped onto 0..1 between "not evidence" and "sure match". */
export function calibrate(similarity: number, scale: SimilarityScale): number {
  if (!Number.isFinite(similarity)) return 0;
  const span = scale.strong - scale.min;
  if (span <= 0) return similarity >= scale.min ? 1 : 0;
  return Math.min(1, Math.max(0, (similarity - scale.min) / span));
}

export interface HitSignals {
  /** Share of the question's keywords found in the hit's text (0..1). */
  coverage: number;
  /** Best calibrated vector similarity of the hit across spaces (0..1). */
  similarity: number;
  /** A phrase the user quoted appears verbatim. */
  quotedMatch: boolean;
}

/** Confidence of one hit: the strongest single reason to believe it answers. */
export function confidence(signals: HitSignals): number {
  if (signals.quotedMatch) return 1;
  return Math.max(signals.coverage, signals.similarity);
}

/**
 * Which stage retrieval stops at. The in-between rule (0.5 <= c < 0.7): the first stage found
 * plausible events but no sure one, so moments are consulted only within those events' spans,
 * which is cheap and can promote the right event among them, but is not allowed to pull in
 * unrelated times; only below 0.5 does retrieval search moments across the whole range.
 */
export function gate(value: number, settings: GateSettings = DEFAULT_GATES): Stage {
  if (value >= settings.confidentAt) return Stage.Events;
  if (value >= settings.escalateBelow) return Stage.LocalDetail;
  return Stage.GlobalDetail;
}

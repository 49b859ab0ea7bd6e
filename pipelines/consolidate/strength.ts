// MemoryBank-style strength: salience (speech, on-screen text, novelty) sets an event's initial
// strength in days; retention is exp(-elapsed / strength); each recall adds strength (store side).

export interface SalienceInput {
  transcript: string;
  ocr: string;
  /** 0..1 surprise at the event's opening boundary. */
  novelty: number;
}

/** 0..1: speech 0.35, on-screen text 0.25, novelty up to 0.4. */
export function salience(input: SalienceInput): number {
  const speech = input.transcript.trim().length > 0 ? 0.35 : 0;
  const text = input.ocr.trim().length > 0 ? 0.25 : 0;
  const novelty = 0.4 * Math.min(1, Math.max(0, Number.isFinite(input.novelty) ? input.novelty : 0));
  return Math.min(1, speech + text + novelty);
}

/** Initial strength in days: base, and up to base again for a fully salient event. */
export function initialStrength(salienceValue: number, baseDays: number): number {
  return baseDays * (1 + Math.min(1, Math.max(0, salienceValue)));
}

/** exp(-elapsed / strength), elapsed counted from the event's end or its last recall. */
export function retention(event: { endedAt: number; lastRecalledAt: number | null; strength: number }, now: number): number {
  const from = Math.max(event.endedAt, event.lastRecalledAt ?? 0);
  const elapsedDays = Math.max(0, now - from) / 86_400_000;
  return Math.exp(-elapsedDays / event.strength);
}

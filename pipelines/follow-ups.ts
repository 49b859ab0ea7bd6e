// How segment ticks are queued. Two deduplicated chains per stream, so a stream never has more
// than one pending tick of each kind:
//   - "tick-STREAM": added by perceive after each record. BullMQ's keepLastIfActive means a record
//     that arrives while a tick runs leaves exactly one follow-up tick, instead of being ignored
//     because a job with that id is still active (the race a plain jobId would have).
//   - "wake-STREAM": delayed checks the segmenter asks for itself (a missing sequence's wait
//     running out, a live stream going idle); replace makes the newest delay win (debounce).
// The per-stream lock keeps the two chains from running one stream at once.

/** The subset of BullMQ job options ticks use (kept structural: only repositories import bullmq). */
export interface TickJobOptions {
  delay?: number;
  deduplication: { id: string; keepLastIfActive: boolean; replace?: boolean };
}
export function tickOptions(stream: string): TickJobOptions {
  return { deduplication: { id: `tick-${stream}`, keepLastIfActive: true } };
}

export function wakeOptions(stream: string, delayMs: number): TickJobOptions {
  return { delay: Math.max(0, Math.round(delayMs)), deduplication: { id: `wake-${stream}`, replace: true, keepLastIfActive: true } };
}

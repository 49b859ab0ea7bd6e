// A wall-clock range of a stream's recording as one MP4: the event clip (GET /api/events/:id/clip
// of a live stream), `engram export` and GET /api/streams/:name/export all come here. It says
// apart "nothing was ever recorded here" from "it was recorded and retention deleted it".
import type { Readable } from 'node:stream';
import { planCut } from '../records/cut-plan.js';
import type { RecordingGap } from '../records/recording.js';
import type { ExportPorts } from '../repositories/recording-cuts.js';

export type ExportOutcome =
  | {
      status: 'ok';
      /** The MP4's blob path in the recordings store (cached for range requests). */
      path: string;
      size: number;
      durationS: number;
      /** Epoch ms covered by recording (the requested range less leading and trailing gaps). */
      coveredFrom: number;
      coveredTo: number;
      segments: number;
      gaps: RecordingGap[];
      read(range?: { start: number; end: number }): Promise<Readable>;
    }
  /** Recorded once, deleted by retention (recordings.retainDays / maxBytes). */
  | { status: 'pruned'; prunedUntil: number }
  /** No recording overlaps the range. */
  | { status: 'none' };

export async function exportRange(ports: ExportPorts, stream: string, fromMs: number, toMs: number, signal?: AbortSignal): Promise<ExportOutcome> {
  const plan = planCut(await ports.list(stream, fromMs, toMs), fromMs, toMs);
  if (!plan || plan.durationS <= 0) {
    const pruned = await ports.prunedUntil(stream);
    return pruned !== null && pruned >= fromMs ? { status: 'pruned', prunedUntil: pruned } : { status: 'none' };
  }
  const cut = await ports.cut(plan, signal);
  return {
    status: 'ok',
    path: cut.path,
    size: cut.size,
    durationS: plan.durationS,
    coveredFrom: plan.coveredFrom,
    coveredTo: plan.coveredTo,
    segments: plan.files.length,
    gaps: plan.gaps,
    read: (range) => ports.read(cut, range),
  };
}

// Widens the ranked hits into the evidence an answer cites: for "after/before X" the anchor and
// what followed or preceded it; otherwise the hits, their neighbours in time (EM-LLM's temporal
// contiguity) and the other sense around the strongest hits (cross-modal completion).
import type { StoredEvent } from '../records/event.js';
import { completionWindows, type CompletionWindow } from './completion.js';
import { EvidenceRole, QuoteSource, type ScoredEvent } from './extractive-answer.js';
import { bestQuote, coverage } from './keywords.js';
import { ModalityHint, type ParsedQuestion } from './question.js';
import type { EventSpan, MemoryFilter, ReasonMemory } from './ports.js';
import { anchorsOf, type RankedEvent, type ReasonSettings } from './retrieve.js';
import { sequelAsk, sequelOf, type GuessedSequel } from './sequel.js';
import { byStream, CLUSTER_GAP_S, listStretches, mergeSpans, NEIGHBOURHOOD_S, type StretchListing } from './stretch-listing.js';

/** The quote an evidence item shows: the spoken or written words that match, guided by the hints. */
export function pickQuote(event: StoredEvent, parsed: ParsedQuestion, words: readonly string[]): { quote: string; source: QuoteSource } {
  const transcriptCoverage = event.transcript ? coverage(words, event.transcript) : -1;
  const ocrCoverage = event.ocr ? coverage(words, event.ocr) : -1;
  const wantsText = parsed.hints.includes(ModalityHint.Text);
  const wantsSpeech = parsed.hints.includes(ModalityHint.Speech) || parsed.hints.includes(ModalityHint.Sound);
  let source = QuoteSource.None;
  if (transcriptCoverage > 0 || ocrCoverage > 0) {
    source = ocrCoverage > transcriptCoverage || (ocrCoverage === transcriptCoverage && wantsText) ? QuoteSource.Ocr : QuoteSource.Transcript;
  } else if (wantsText && event.ocr) source = QuoteSource.Ocr;
  else if (wantsSpeech && event.transcript) source = QuoteSource.Transcript;
  else if (event.ocr && !event.transcript) source = QuoteSource.Ocr;
  else if (event.transcript) source = QuoteSource.Transcript;
  if (source === QuoteSource.Ocr) return { quote: bestQuote(words, event.ocr), source };
  if (source === QuoteSource.Transcript) return { quote: bestQuote(words, event.transcript), source };
  return { quote: '', source: QuoteSource.None };
}

/**
 * The baseline a text question is contrasted with: a question that names nothing. What the
 * question's own words add over it is what counts as similarity (see reason.minSimilarity).
 */

/** Groups a stream's windows that lie within `gapS` of each other into one read. */
export function clusterWindows(windows: readonly CompletionWindow[], gapS: number): { stream: string; start: number; end: number; windows: CompletionWindow[] }[] {
  const out: { stream: string; start: number; end: number; windows: CompletionWindow[] }[] = [];
  for (const w of windows) {
    const last = out[out.length - 1];
    if (last && last.stream === w.stream && w.start - last.end <= gapS) {
      last.end = Math.max(last.end, w.end);
      last.windows.push(w);
    } else {
      out.push({ stream: w.stream, start: w.start, end: w.end, windows: [w] });
    }
  }
  return out;
}

/** What widening needs to know about the question. */
export interface WidenQuestion {
  parsed: ParsedQuestion;
  /** The words searched for (the anchor's words for an order question). */
  words: readonly string[];
  wall: MemoryFilter['wall'];
  /** No words and no example: an overview, without neighbours or completion. */
  browse: boolean;
}

/** The evidence, at most settings.maxEvidence items, each with its role and quote. */
export async function widenEvidence(
  memory: ReasonMemory,
  settings: ReasonSettings,
  question: WidenQuestion,
  ranked: readonly RankedEvent[],
  guessed?: StretchListing,
  guessedSequel?: GuessedSequel,
): Promise<ScoredEvent[]> {
  const { parsed, words, wall, browse } = question;
  const items: ScoredEvent[] = [];
  const seen = new Set<string>();
  const push = (r: { event: StoredEvent; score: number; confidence: number; thumbnail?: string | null }, role: EvidenceRole) => {
    if (seen.has(r.event.id)) return;
    seen.add(r.event.id);
    const { quote, source } = pickQuote(r.event, parsed, role === EvidenceRole.Anchor ? (parsed.order?.anchorKeywords ?? words) : parsed.keywords.length > 0 ? parsed.keywords : words);
    items.push({ event: r.event, score: r.score, confidence: r.confidence, role, quote, quoteSource: source, thumbnail: r.thumbnail ?? r.event.thumbnail });
  };
  const max = settings.maxEvidence;
  const thumbnailOf = (r: RankedEvent) => r.event.thumbnail ?? r.moments.find((m) => m.thumbnail)?.thumbnail ?? null;

  const ask = sequelAsk(parsed, wall, max);
  if (ask) {
    const anchor = ranked[0];
    if (anchor) {
      push({ event: anchor.event, score: anchor.fused.score, confidence: anchor.confidence, thumbnail: thumbnailOf(anchor) }, EvidenceRole.Anchor);
      const fits = (e: StoredEvent) =>
        (!parsed.hints.includes(ModalityHint.Speech) || e.transcript.length > 0) && (!parsed.hints.includes(ModalityHint.Text) || e.ocr.length > 0);
      const sequel = await sequelOf(memory, anchor.event, ask, fits, guessedSequel);
      for (const e of sequel) push({ event: e, score: 0, confidence: anchor.confidence }, EvidenceRole.Sequel);
    }
  } else {
    const neighbourSlots = ranked.length > 0 && !browse ? Math.min(settings.neighbours * 2, Math.max(0, max - 1)) : 0;
    const hitCount = Math.max(1, max - neighbourSlots);
    for (const r of ranked.slice(0, hitCount)) push({ event: r.event, score: r.fused.score, confidence: r.confidence, thumbnail: thumbnailOf(r) }, EvidenceRole.Hit);
    const best = ranked[0];
    // Cross-modal completion around the strongest hits: the other sense within a second or two.
    const windows = browse
      ? []
      : completionWindows(ranked.slice(0, 3).flatMap(anchorsOf), { visualS: settings.visualWindowS, audioS: settings.audioWindowS, mergeGapS: settings.mergeGapS });
    // The stretches of a stream that hold completion windows or the best hit's neighbourhood
    // (overlapping ones merged), and the clusters of nearby windows. Hits far apart in one stream
    // are separate stretches: one stretch spanning both sorted and cut everything between them.
    const reads = clusterWindows(windows, CLUSTER_GAP_S);
    const wantNeighbours = best !== undefined && neighbourSlots > 0;
    const spans = mergeSpans([
      ...reads.map((r) => ({ stream: r.stream, start: r.start, end: r.end })),
      ...(best && wantNeighbours ? [{ stream: best.event.stream, start: best.event.start - NEIGHBOURHOOD_S, end: best.event.end + NEIGHBOURHOOD_S }] : []),
    ]);
    // One span listing per stream, covering all of that stream's stretches (an OR of windows), in
    // parallel: every LanceDB query costs ~5 ms CPU whatever it returns, and a listing per stretch
    // made two or three of them per question. The stretches are listed as spans (id and times)
    // only: of the ~40 events ten minutes of a busy stream hold, a question cites two or three,
    // and only those rows are read in full. The stretches guessed from the candidates' ids and read
    // with their rows (full rows) answer instead where they cover these.
    const known = new Map<string, StoredEvent>(ranked.map((r) => [r.event.id, r.event]));
    const nearby = new Map<string, EventSpan[]>(
      await Promise.all(
        byStream(spans).map(async ([stream, stretches]) => {
          const listed = guessed?.covering(stream, stretches);
          for (const e of listed ?? []) if (!known.has(e.id)) known.set(e.id, e);
          return [stream, listed ?? (await listStretches(memory, stream, stretches))] as const;
        }),
      ),
    );
    // Context events in the order they join the evidence, up to the slots left.
    const context: string[] = [];
    const addContext = (id: string) => {
      if (!seen.has(id) && !context.includes(id) && items.length + context.length < max) context.push(id);
    };
    if (best && wantNeighbours) {
      // Temporal contiguity (EM-LLM): what happened just before and after the best hit.
      const n = settings.neighbours;
      const local = [...(nearby.get(best.event.stream) ?? [])].sort((x, y) => x.start - y.start);
      let around: { id: string }[] = [...local.filter((e) => e.start < best.event.start).slice(-n), ...local.filter((e) => e.start > best.event.start).slice(0, n)];
      // A quiet stream may have its neighbours further away than the neighbourhood read.
      if (around.length === 0) {
        const far = await memory.neighbours(best.event, n, n);
        for (const e of far) known.set(e.id, e);
        around = far;
      }
      for (const e of around) addContext(e.id);
    }
    // Cross-modal completion: events of the other sense inside the windows.
    const inside = (read: (typeof reads)[number], from: number, to: number) => read.windows.some((w) => from <= w.end && to >= w.start);
    for (const read of reads) for (const e of nearby.get(read.stream) ?? []) if (inside(read, e.start, e.end)) addContext(e.id);
    const unread = context.filter((id) => !known.has(id));
    if (unread.length > 0) for (const e of await memory.getEvents(unread)) known.set(e.id, e);
    for (const id of context) {
      const event = known.get(id);
      if (event) push({ event, score: 0, confidence: 0 }, EvidenceRole.Context);
    }
    // Keyframe thumbnails for evidence that has none, from the moments inside the windows. Events
    // nearly always carry their own, so the moments are read only for streams where one is missing
    // (one read per stream): reading them for every question was one more LanceDB query per stream.
    const bareStreams = new Set(items.filter((i) => !i.thumbnail).map((i) => i.event.stream));
    const momentReads = byStream(reads.filter((r) => bareStreams.has(r.stream)));
    const streamMoments = new Map(await Promise.all(momentReads.map(async ([stream, clusters]) => [stream, await memory.momentsInWindows(stream, clusters)] as const)));
    for (const read of reads) {
      const moments = streamMoments.get(read.stream) ?? [];
      for (const item of items) {
        if (item.thumbnail) continue;
        const keyframe = moments.find((m) => m.eventId === item.event.id && m.thumbnail && inside(read, m.t, m.t));
        if (keyframe) item.thumbnail = keyframe.thumbnail;
      }
    }
    for (const r of ranked.slice(hitCount)) if (items.length < max) push({ event: r.event, score: r.fused.score, confidence: r.confidence, thumbnail: thumbnailOf(r) }, EvidenceRole.Hit);
  }
  return items;
}

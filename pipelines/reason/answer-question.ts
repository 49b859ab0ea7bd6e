// Answers one question: understand it, retrieve, widen the evidence in time (order questions,
// neighbours, cross-modal completion), write the answer, and reinforce what was recalled. The CLI,
// the reason role and the HTTP API all call answerQuestion().
import { EngramError, ExampleError } from '../../config/errors.js';
import type { StoredEvent } from '../records/event.js';
import { silentLog, type Log } from '../log.js';
import type { QueryAnswer, QueryRequest, Evidence } from './answer-types.js';
import { completionWindows, type CompletionWindow } from './completion.js';
import { EvidenceRole, QuoteSource, writeExtractiveAnswer, type ScoredEvent } from './extractive-answer.js';
import { SourceKind } from './fusion.js';
import { bestQuote, coverage } from './keywords.js';
import { buildAnswerMessages, parseAnswerReply } from './llm-answer.js';
import { ModalityHint, OrderDirection, parseQuestion, type ParsedQuestion } from './question.js';
import type { MemoryFilter, ReasonChat, ReasonMedia, ReasonMemory, ReasonModels } from './ports.js';
import { COCO_LABELS } from '../../models/convert/coco-labels.js';
import type { LabelWords } from './label-words.js';
import { answerObjects } from './object-answer.js';
import { mayAskAboutObjects, readObjectQuestion, type ObjectQuestion } from './object-question.js';
import { anchorsOf, retrieve, type QueryVector, type RankedEvent, type ReasonSettings } from './retrieve.js';

export interface ReasonDeps {
  memory: ReasonMemory;
  models: ReasonModels;
  /** Decodes --image / --audio examples; needed only for query by example. */
  media?: ReasonMedia;
  /** The chat model, when one is configured. */
  chat?: ReasonChat;
  settings: ReasonSettings;
  /** Resolved zone (settings.timeZone or the system's). */
  timeZone: string;
  log?: Pick<Log, 'warn' | 'debug'>;
  /** The WordNet word -> detector label map (label-words.ts); without it object questions go through retrieval. */
  labelWords?: () => Promise<LabelWords>;
  /** Work that must not delay the answer (reinforcement); the owner awaits it before closing. */
  background?: (work: Promise<unknown>) => void;
}


function ms(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

function intersectWall(a: { from: number; to: number } | undefined, b: { from: number; to: number } | undefined) {
  if (!a) return b;
  if (!b) return a;
  return { from: Math.max(a.from, b.from), to: Math.min(a.to, b.to) };
}

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
export const NEUTRAL_QUESTION = 'something happened';

const neutralVectors = new WeakMap<ReasonModels, Map<string, Promise<Float32Array>>>();

function neutralVector(models: ReasonModels, space: string, signal: AbortSignal): Promise<Float32Array> {
  let perSpace = neutralVectors.get(models);
  if (!perSpace) {
    perSpace = new Map();
    neutralVectors.set(models, perSpace);
  }
  let vector = perSpace.get(space);
  if (!vector) {
    vector = models.embedText(space, NEUTRAL_QUESTION, signal);
    perSpace.set(space, vector);
    vector.catch(() => perSpace?.delete(space));
  }
  return vector;
}

/** question - neutral, and its length; undefined when the encoder cannot tell them apart. */
export function contrastVector(question: Float32Array, neutral: Float32Array): { vector: Float32Array; scale: number } | undefined {
  const vector = new Float32Array(question.length);
  let norm = 0;
  for (let i = 0; i < vector.length; i += 1) {
    const d = (question[i] as number) - (neutral[i] ?? 0);
    vector[i] = d;
    norm += d * d;
  }
  const scale = Math.sqrt(norm);
  return scale < 1e-4 ? undefined : { vector, scale };
}

async function embedQuestion(deps: ReasonDeps, request: QueryRequest, text: string, signal: AbortSignal): Promise<QueryVector[]> {
  const jobs: Promise<QueryVector | undefined>[] = [];
  if (text) {
    for (const space of deps.models.textSpaces()) {
      jobs.push(
        Promise.all([deps.models.embedText(space.id, text, signal), neutralVector(deps.models, space.id, signal)]).then(([question, neutral]) => {
          const contrast = contrastVector(question, neutral);
          // An encoder that embeds this question like the neutral one has nothing to say about it.
          return contrast ? { space: space.id, kind: space.kind, vector: contrast.vector, scale: contrast.scale } : undefined;
        }),
      );
    }
  }
  if (request.image) {
    if (!deps.media) throw new ExampleError('image', 'query by image needs the media repository (ffmpeg), which this process did not open');
    const spaces = deps.models.imageSpaces();
    if (spaces.length === 0) throw new ExampleError('image', 'query by image needs an image embedding model; none is installed (see `engram models list`)');
    const image = await deps.media.decodeImage(request.image, signal);
    for (const space of spaces) jobs.push(deps.models.embedImage(space, image, signal).then((vector) => ({ space, kind: SourceKind.Example, vector, scale: 1 })));
  }
  if (request.audio) {
    if (!deps.media) throw new ExampleError('audio', 'query by audio needs the media repository (ffmpeg), which this process did not open');
    const spaces = deps.models.audioSpaces();
    if (spaces.length === 0) throw new ExampleError('audio', 'query by audio needs an audio embedding model; none is installed (see `engram models list`)');
    const pcm = await deps.media.decodeAudio(request.audio, signal);
    for (const space of spaces) jobs.push(deps.models.embedAudio(space, pcm, signal).then((vector) => ({ space, kind: SourceKind.Example, vector, scale: 1 })));
  }
  return (await Promise.all(jobs)).filter((v): v is QueryVector => v !== undefined);
}

function toEvidence(item: ScoredEvent): Evidence {
  return {
    eventId: item.event.id,
    stream: item.event.stream,
    start: item.event.start,
    end: item.event.end,
    startedAt: new Date(item.event.startedAt).toISOString(),
    score: Math.round(item.score * 1e6) / 1e6,
    summary: item.event.summary,
    quote: item.quote,
    thumbnail: item.thumbnail,
  };
}

/** Events read for one question about objects: a month of a busy camera's visits. */
const OBJECT_EVENTS_LIMIT = 2000;

/** How far around the best hit the neighbourhood read reaches, in stream seconds. */
const NEIGHBOURHOOD_S = 300;

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

/** Stretches of stream time, merged where they overlap within a stream; sorted by stream, then start. */
export function mergeSpans(spans: readonly { stream: string; start: number; end: number }[]): { stream: string; start: number; end: number }[] {
  const sorted = spans.map((x) => ({ ...x, start: Math.max(0, x.start) })).sort((a, b) => a.stream.localeCompare(b.stream) || a.start - b.start);
  const out: { stream: string; start: number; end: number }[] = [];
  for (const span of sorted) {
    const last = out[out.length - 1];
    if (last && last.stream === span.stream && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else out.push({ ...span });
  }
  return out;
}

/** Events after (or before) the anchor on its stream, preferring ones that fit the question's sense. */
async function sequelOf(memory: ReasonMemory, anchor: StoredEvent, parsed: ParsedQuestion, filter: MemoryFilter, count: number): Promise<StoredEvent[]> {
  const after = parsed.order?.direction === OrderDirection.After;
  const window = after ? { start: anchor.end, end: Number.POSITIVE_INFINITY } : { start: 0, end: anchor.start };
  const candidates = (await memory.listEvents({ ...filter, streams: [anchor.stream], streamTime: window }, count * 4, !after)).filter(
    (e) => e.id !== anchor.id && (after ? e.start >= anchor.start + 0.001 : e.start < anchor.start),
  );
  const fits = (e: StoredEvent) =>
    (!parsed.hints.includes(ModalityHint.Speech) || e.transcript.length > 0) && (!parsed.hints.includes(ModalityHint.Text) || e.ocr.length > 0);
  const fitting = candidates.filter(fits);
  const chosen = (fitting.length > 0 ? fitting : candidates).slice(0, count);
  return chosen.sort((a, b) => (after ? a.start - b.start : b.start - a.start));
}

/** Answers one question from memory. Throws EngramError for a request that can never be answered. */
export async function answerQuestion(deps: ReasonDeps, request: QueryRequest, signal: AbortSignal): Promise<QueryAnswer> {
  const started = performance.now();
  const log = deps.log ?? silentLog;
  const { memory, settings, timeZone } = deps;
  const question = request.question.trim();
  if (!question && !request.image && !request.audio) throw new EngramError('the question is empty: ask in words, or give an example with --image or --audio');
  if (request.since !== undefined && request.until !== undefined && request.since >= request.until) {
    throw new EngramError(`--since (${new Date(request.since).toISOString()}) is not before --until (${new Date(request.until).toISOString()})`);
  }
  const now = request.now ?? Date.now();

  // Understand.
  const parseStart = performance.now();
  let known = await memory.streams();
  // The stream list may be a few seconds old: look again before calling a stream unknown.
  if (request.stream !== undefined && !known.includes(request.stream)) known = await memory.streams(true);
  if (request.stream !== undefined && !known.includes(request.stream)) {
    throw new EngramError(`no stream "${request.stream}" in memory (streams: ${known.length > 0 ? known.join(', ') : 'none yet'})`, { exitCode: 2 });
  }
  const parsed = parseQuestion(question, { now, timeZone, streams: known });
  const streams = request.stream !== undefined ? [request.stream] : parsed.streams;
  const wall = intersectWall(parsed.wall, request.since !== undefined || request.until !== undefined ? { from: request.since ?? 0, to: request.until ?? Number.MAX_SAFE_INTEGER } : undefined);
  const filter: MemoryFilter = {
    ...(streams.length > 0 ? { streams } : {}),
    ...(wall ? { wall } : {}),
    ...(parsed.streamTime ? { streamTime: parsed.streamTime } : {}),
  };
  const words = parsed.order ? parsed.order.anchorKeywords : parsed.keywords;
  const hasExample = request.image !== undefined || request.audio !== undefined;
  const browse = words.length === 0 && parsed.quoted.length === 0 && !hasExample;
  let objects: ObjectQuestion | undefined;
  if (deps.labelWords && !hasExample && mayAskAboutObjects(parsed, parsed.about)) {
    try {
      objects = readObjectQuestion(parsed, parsed.about, await deps.labelWords());
    } catch (error) {
      // Without the word map the question is still answered, by retrieval.
      log.warn({ err: error }, 'cannot map question words to detector labels; answering by retrieval');
    }
  }
  // A memory where the detector never saw anything (none installed, or events from before it) cannot
  // say "no car was seen": there the question goes to retrieval like any other.
  if (objects && (await memory.countEvents({ labels: COCO_LABELS })) === 0) objects = undefined;
  const parseMs = ms(parseStart);

  if (objects) {
    // Labels are facts the detector recorded: the answer is read from them, not ranked by similarity.
    const searchStart = performance.now();
    const events = await memory.listEvents({ ...filter, labels: objects.labels }, OBJECT_EVENTS_LIMIT);
    const searchMs = ms(searchStart);
    const answerStart = performance.now();
    const written = answerObjects(objects, events, { timeZone, now, maxEvidence: settings.maxEvidence, streams, ...(wall ? { wall } : {}) });
    const answerMs = ms(answerStart);
    if (settings.reinforce && written.cited.length > 0) {
      const work = memory.reinforce(written.cited.map((e) => e.id), now).catch((error: unknown) => log.warn({ err: error }, 'could not reinforce recalled events'));
      deps.background?.(work);
    }
    return {
      question: request.question,
      answer: written.answer,
      evidence: written.cited.map((event) => toEvidence({ event, score: 1, confidence: 1, role: EvidenceRole.Hit, quote: '', quoteSource: QuoteSource.None, thumbnail: event.thumbnail })),
      timings: { totalMs: ms(started), parseMs, embedMs: 0, searchMs, fusionMs: 0, detailMs: 0, answerMs },
    };
  }

  // Embed.
  const embedStart = performance.now();
  const vectors = browse ? [] : await embedQuestion(deps, request, parsed.order ? parsed.order.anchorKeywords.join(' ') : parsed.searchText, signal);
  const embedMs = ms(embedStart);
  signal.throwIfAborted();

  // Retrieve.
  const retrieval = await retrieve(memory, { parsed, filter, vectors, words, quoted: parsed.quoted, browse }, settings);
  signal.throwIfAborted();
  log.debug({ stage: retrieval.stage, confidence: retrieval.firstConfidence, hits: retrieval.ranked.length }, 'retrieved');

  // Widen in time: order, neighbours, cross-modal completion.
  const widenStart = performance.now();
  const items: ScoredEvent[] = [];
  const seen = new Set<string>();
  const push = (r: { event: StoredEvent; score: number; confidence: number; thumbnail?: string | null }, role: EvidenceRole) => {
    if (seen.has(r.event.id)) return;
    seen.add(r.event.id);
    const { quote, source } = pickQuote(r.event, parsed, role === EvidenceRole.Anchor ? (parsed.order?.anchorKeywords ?? words) : parsed.keywords.length > 0 ? parsed.keywords : words);
    items.push({ event: r.event, score: r.score, confidence: r.confidence, role, quote, quoteSource: source, thumbnail: r.thumbnail ?? r.event.thumbnail });
  };
  const max = settings.maxEvidence;
  const ranked = retrieval.ranked;
  const thumbnailOf = (r: RankedEvent) => r.event.thumbnail ?? r.moments.find((m) => m.thumbnail)?.thumbnail ?? null;

  if (parsed.order) {
    const anchor = ranked[0];
    if (anchor) {
      push({ event: anchor.event, score: anchor.fused.score, confidence: anchor.confidence, thumbnail: thumbnailOf(anchor) }, EvidenceRole.Anchor);
      const sequel = await sequelOf(memory, anchor.event, parsed, { ...(wall ? { wall } : {}) }, Math.max(1, max - 1));
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
    // One events read per stretch of a stream that holds completion windows or the best hit's
    // neighbourhood (stretches that overlap share a read), and one moments read per cluster of
    // nearby windows; all in parallel. Hits far apart in one stream get a read each: one read
    // spanning both sorted and cut everything between them.
    const reads = clusterWindows(windows, 60);
    const wantNeighbours = best !== undefined && neighbourSlots > 0;
    const spans = mergeSpans([
      ...reads.map((r) => ({ stream: r.stream, start: r.start, end: r.end })),
      ...(best && wantNeighbours ? [{ stream: best.event.stream, start: best.event.start - NEIGHBOURHOOD_S, end: best.event.end + NEIGHBOURHOOD_S }] : []),
    ]);
    const [eventsBySpan, momentsByRead] = await Promise.all([
      Promise.all(spans.map(async (span) => ({ stream: span.stream, events: await memory.listEvents({ streams: [span.stream], streamTime: { start: span.start, end: span.end } }, 200) }))),
      Promise.all(reads.map(async (read) => ({ read, moments: await memory.momentsInWindow(read.stream, read.start, read.end) }))),
    ]);
    const nearby = new Map<string, StoredEvent[]>();
    for (const { stream, events } of eventsBySpan) {
      const list = nearby.get(stream) ?? [];
      // An event that straddles two stretches comes back from both reads.
      for (const e of events) if (!list.some((x) => x.id === e.id)) list.push(e);
      nearby.set(stream, list);
    }
    if (best && wantNeighbours) {
      // Temporal contiguity (EM-LLM): what happened just before and after the best hit.
      const n = settings.neighbours;
      const local = [...(nearby.get(best.event.stream) ?? [])].sort((x, y) => x.start - y.start);
      let around = [...local.filter((e) => e.start < best.event.start).slice(-n), ...local.filter((e) => e.start > best.event.start).slice(0, n)];
      // A quiet stream may have its neighbours further away than the neighbourhood read.
      if (around.length === 0) around = await memory.neighbours(best.event, n, n);
      for (const e of around) if (items.length < max) push({ event: e, score: 0, confidence: 0 }, EvidenceRole.Context);
    }
    // Cross-modal completion: events of the other sense inside the windows, and keyframe thumbnails.
    for (const { read, moments } of momentsByRead) {
      const inside = (from: number, to: number) => read.windows.some((w) => from <= w.end && to >= w.start);
      for (const item of items) {
        if (item.thumbnail) continue;
        const keyframe = moments.find((m) => m.eventId === item.event.id && m.thumbnail && inside(m.t, m.t));
        if (keyframe) item.thumbnail = keyframe.thumbnail;
      }
      for (const e of nearby.get(read.stream) ?? []) if (inside(e.start, e.end) && items.length < max) push({ event: e, score: 0, confidence: 0 }, EvidenceRole.Context);
    }
    for (const r of ranked.slice(hitCount)) if (items.length < max) push({ event: r.event, score: r.fused.score, confidence: r.confidence, thumbnail: thumbnailOf(r) }, EvidenceRole.Hit);
  }
  const detailMs = Math.round((retrieval.detailMs + (performance.now() - widenStart)) * 100) / 100;

  // Answer.
  const answerStart = performance.now();
  const eventsInRange = items.length > 0 ? items.length : await memory.countEvents(filter);
  let answer = '';
  let evidenceItems = items;
  if (deps.chat && settings.useLlm) {
    try {
      const reply = await deps.chat.complete(buildAnswerMessages(parsed, items, timeZone, now), signal);
      const read = parseAnswerReply(reply, new Set(items.map((i) => i.event.id)));
      if (read) {
        answer = read.answer;
        if (read.dropped.length > 0) log.warn({ dropped: read.dropped }, 'the chat model cited events that are not in the evidence; dropped');
        if (read.citations.length > 0) {
          const byId = new Map(items.map((i) => [i.event.id, i]));
          const cited = read.citations.map((id) => byId.get(id)).filter((i): i is ScoredEvent => i !== undefined);
          evidenceItems = cited;
        }
      } else {
        log.warn({}, 'the chat model did not reply with the JSON asked for; answering extractively');
      }
    } catch (error) {
      if (signal.aborted) throw error;
      log.warn({ err: error }, 'the chat model failed; answering extractively');
    }
  }
  if (!answer) answer = writeExtractiveAnswer(items, { parsed, timeZone, now, eventsInRange, streams, timeFiltered: wall !== undefined || parsed.streamTime !== undefined, overview: browse });
  const answerMs = ms(answerStart);

  // Reinforce what was recalled, without making the user wait for the write.
  if (settings.reinforce) {
    const recalled = evidenceItems.filter((i) => i.role !== EvidenceRole.Context).map((i) => i.event.id);
    if (recalled.length > 0) {
      const work = memory.reinforce(recalled, now).catch((error: unknown) => log.warn({ err: error }, 'could not reinforce recalled events'));
      deps.background?.(work);
    }
  }

  return {
    question: request.question,
    answer,
    evidence: evidenceItems.map(toEvidence),
    timings: {
      totalMs: ms(started),
      parseMs,
      embedMs,
      searchMs: Math.round(retrieval.searchMs * 100) / 100,
      fusionMs: Math.round(retrieval.fusionMs * 100) / 100,
      detailMs,
      answerMs,
    },
  };
}

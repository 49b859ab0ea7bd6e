// Answers one question: understand it, retrieve, widen the evidence in time (order questions,
// neighbours, cross-modal completion), write the answer, and reinforce what was recalled. The CLI,
// the reason role and the HTTP API all call answerQuestion().
import { EngramError, ExampleError } from '../../config/errors.js';
import { silentLog, type Log } from '../log.js';
import type { QueryAnswer, QueryRequest, Evidence } from './answer-types.js';
import { EvidenceRole, QuoteSource, writeExtractiveAnswer, type ScoredEvent } from './extractive-answer.js';
import { SourceKind } from './fusion.js';
import { buildAnswerMessages, parseAnswerReply } from './llm-answer.js';
import { parseQuestion, type ParsedQuestion } from './question.js';
import type { MemoryFilter, ReasonChat, ReasonMedia, ReasonMemory, ReasonModels, ReasonPeople } from './ports.js';
import { answerPeople } from './person-answer.js';
import { PersonAsk, readPersonQuestion, type PersonQuestion } from './person-question.js';
import { COCO_LABELS } from '../../models/convert/coco-labels.js';
import type { LabelWords } from './label-words.js';
import { answerObjects } from './object-answer.js';
import { mayAskAboutObjects, readObjectQuestion, type ObjectQuestion } from './object-question.js';
import { retrieve, type QueryVector, type ReasonSettings } from './retrieve.js';
import { sequelAsk } from './sequel.js';
import { widenEvidence } from './widen-evidence.js';

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
  /**
   * The tracker's memory (segment.tracks.memorySeconds): an object leaving while another of its
   * label comes into view this soon was moved, not taken away. Without it only simultaneous changes cancel.
   */
  trackMemorySeconds?: number;
  /** Face identities; without them (faces off) questions about people go to the object detector or retrieval. */
  people?: ReasonPeople;
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

async function embedQuestion(deps: ReasonDeps, request: QueryRequest, text: string, signal: AbortSignal): Promise<Promise<QueryVector | undefined>[]> {
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
  // Searched as each arrives; a rejection is met by whoever awaits it (retrieve), not left unhandled meanwhile.
  for (const job of jobs) job.catch(() => undefined);
  return jobs;
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
    labels: item.event.labels,
    counts: item.event.counts,
  };
}
/** What the question asks, read once: the parsed question, the streams and time it is about, the memory filter. */
interface Understood {
  question: string;
  parsed: ParsedQuestion;
  streams: string[];
  wall: MemoryFilter['wall'];
  filter: MemoryFilter;
  words: string[];
  /** No words and no example: an overview of what is in range. */
  browse: boolean;
}

/** Checks the request and reads the question; throws EngramError for one that can never be answered. */
async function understandQuestion(deps: ReasonDeps, request: QueryRequest, now: number): Promise<Understood> {
  const { memory, timeZone } = deps;
  const question = request.question.trim();
  if (!question && !request.image && !request.audio && !request.face) throw new EngramError('the question is empty: ask in words, or give an example with --image, --audio or --face');
  if (request.since !== undefined && request.until !== undefined && request.since >= request.until) {
    throw new EngramError(`--since (${new Date(request.since).toISOString()}) is not before --until (${new Date(request.until).toISOString()})`);
  }
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
  const hasExample = request.image !== undefined || request.audio !== undefined || request.face !== undefined;
  const browse = words.length === 0 && parsed.quoted.length === 0 && !hasExample;
  return { question, parsed, streams, wall, filter, words, browse };
}

/** The answer's words and the evidence it cites: by the chat model when one is configured and answers as asked, else extractive. */
async function writeAnswer(deps: ReasonDeps, understood: Understood, items: ScoredEvent[], now: number, signal: AbortSignal): Promise<{ answer: string; evidenceItems: ScoredEvent[] }> {
  const { memory, settings, timeZone } = deps;
  const log = deps.log ?? silentLog;
  const { parsed, filter, streams, wall, browse } = understood;
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
  return { answer, evidenceItems };
}

/** Recalled events fade more slowly (MemoryBank): reinforced in the background, never delaying the answer. */
function reinforceRecalled(deps: ReasonDeps, evidenceItems: readonly ScoredEvent[], now: number): void {
  const { memory, settings } = deps;
  const log = deps.log ?? silentLog;
  if (settings.reinforce) {
    const recalled = evidenceItems.filter((i) => i.role !== EvidenceRole.Context).map((i) => i.event.id);
    if (recalled.length > 0) {
      const work = memory.reinforce(recalled, now).catch((error: unknown) => log.warn({ err: error, events: recalled }, 'could not reinforce recalled events; this recall is not counted (their strength stays as it was)'));
      deps.background?.(work);
    }
  }
}

/** Events read for one question about objects: a month of a busy camera's visits. */
const OBJECT_EVENTS_LIMIT = 2000;

/** What the question asks about detected objects, when it does and the detector has seen anything at all. */
async function objectQuestionOf(deps: ReasonDeps, request: QueryRequest, understood: Understood): Promise<ObjectQuestion | undefined> {
  const { parsed } = understood;
  if (!deps.labelWords || request.image !== undefined || request.audio !== undefined || !mayAskAboutObjects(parsed, parsed.about)) return undefined;
  let objects: ObjectQuestion | undefined;
  try {
    objects = readObjectQuestion(parsed, parsed.about, await deps.labelWords());
  } catch (error) {
    // Without the word map the question is still answered, by retrieval.
    (deps.log ?? silentLog).warn({ err: error }, 'cannot map question words to detector labels; answering by retrieval');
    return undefined;
  }
  // A memory where the detector never saw anything (none installed, or events from before it) cannot
  // say "no car was seen": there the question goes to retrieval like any other.
  if (objects && (await deps.memory.countEvents({ labels: COCO_LABELS })) === 0) return undefined;
  return objects;
}

/** Labels are facts the detector recorded: the answer is read from them, not ranked by similarity. */
async function answerAboutObjects(deps: ReasonDeps, understood: Understood, objects: ObjectQuestion, now: number): Promise<{ answer: string; items: ScoredEvent[]; searchMs: number; answerMs: number }> {
  const searchStart = performance.now();
  const events = await deps.memory.listEvents({ ...understood.filter, labels: objects.labels }, OBJECT_EVENTS_LIMIT);
  const searchMs = ms(searchStart);
  const answerStart = performance.now();
  const { wall, streams } = understood;
  const written = answerObjects(objects, events, { timeZone: deps.timeZone, now, maxEvidence: deps.settings.maxEvidence, streams, swapSeconds: deps.trackMemorySeconds ?? 0, ...(wall ? { wall } : {}) });
  const items = written.cited.map((event) => ({ event, score: 1, confidence: 1, role: EvidenceRole.Hit, quote: '', quoteSource: QuoteSource.None, thumbnail: event.thumbnail }));
  return { answer: written.answer, items, searchMs, answerMs: ms(answerStart) };
}

/** What the question asks about people, when it does (or a face photo came with it) and identities exist. */
async function personQuestionOf(deps: ReasonDeps, request: QueryRequest, understood: Understood, signal: AbortSignal): Promise<(PersonQuestion & { byPhoto: boolean }) | { unknownFace: true } | undefined> {
  if (request.face !== undefined) {
    if (!deps.people) throw new ExampleError('face', 'query by face needs face recognition, which is turned off (faces.enabled: false) or not installed (blazeface and faceres; npm run setup converts them)');
    if (!deps.media) throw new ExampleError('face', 'query by face needs the media repository (ffmpeg), which this process did not open');
    const found = await deps.people.recognise(await deps.media.decodeImage(request.face, signal), signal);
    return found ? { ask: PersonAsk.When, person: { id: found.id, name: found.name }, byPhoto: true } : { unknownFace: true };
  }
  if (!deps.people || request.image !== undefined || request.audio !== undefined) return undefined;
  const people = await deps.people.identities();
  if (people.length === 0) return undefined;
  const read = readPersonQuestion(understood.parsed, people);
  return read ? { ...read, byPhoto: false } : undefined;
}

/** Identities are facts consolidation recorded: the answer is read from events' people, named at answer time. */
async function answerAboutPeople(deps: ReasonDeps, understood: Understood, question: PersonQuestion & { byPhoto: boolean }, now: number): Promise<{ answer: string; items: ScoredEvent[]; searchMs: number; answerMs: number }> {
  const searchStart = performance.now();
  const filter = question.person ? { ...understood.filter, people: [question.person.id] } : understood.filter;
  const [events, people] = await Promise.all([deps.memory.listEvents(filter, OBJECT_EVENTS_LIMIT), (deps.people as ReasonPeople).identities()]);
  const searchMs = ms(searchStart);
  const answerStart = performance.now();
  const { wall, streams } = understood;
  const written = answerPeople(question, events, people, { timeZone: deps.timeZone, now, maxEvidence: deps.settings.maxEvidence, streams, byPhoto: question.byPhoto, ...(wall ? { wall } : {}) });
  const items = written.cited.map((event) => ({ event, score: 1, confidence: 1, role: EvidenceRole.Hit, quote: '', quoteSource: QuoteSource.None, thumbnail: event.thumbnail }));
  return { answer: written.answer, items, searchMs, answerMs: ms(answerStart) };
}

/** Answers one question from memory. Throws EngramError for a request that can never be answered. */
export async function answerQuestion(deps: ReasonDeps, request: QueryRequest, signal: AbortSignal): Promise<QueryAnswer> {
  const started = performance.now();
  const log = deps.log ?? silentLog;
  const { memory, settings } = deps;
  const now = request.now ?? Date.now();

  // Understand.
  const parseStart = performance.now();
  const understood = await understandQuestion(deps, request, now);
  const { parsed, wall, filter, words, browse } = understood;
  const persons = await personQuestionOf(deps, request, understood, signal);
  const objects = persons ? undefined : await objectQuestionOf(deps, request, understood);
  const parseMs = ms(parseStart);

  if (persons && 'unknownFace' in persons) {
    return { question: request.question, answer: 'No one in memory has this face: this person was not seen (or not recognised).', evidence: [], timings: { totalMs: ms(started), parseMs, embedMs: 0, searchMs: 0, fusionMs: 0, detailMs: 0, answerMs: 0 } };
  }
  // Person and object questions are answered from memory's identities and detections, without search.
  const found = persons ? await answerAboutPeople(deps, understood, persons, now) : objects ? await answerAboutObjects(deps, understood, objects, now) : undefined;
  if (found) {
    reinforceRecalled(deps, found.items, now);
    return {
      question: request.question,
      answer: found.answer,
      evidence: found.items.map(toEvidence),
      timings: { totalMs: ms(started), parseMs, embedMs: 0, searchMs: found.searchMs, fusionMs: 0, detailMs: 0, answerMs: found.answerMs },
    };
  }

  // Embed.
  const embedStart = performance.now();
  const vectors = browse ? [] : await embedQuestion(deps, request, parsed.order ? parsed.order.anchorKeywords.join(' ') : parsed.searchText, signal);
  // Each space is searched as soon as its vector is there: the embeddings overlap the searches.
  let embedMs = 0;
  void Promise.allSettled(vectors).then(() => {
    embedMs = ms(embedStart);
  });

  // Retrieve.
  // Widening lists stretches around the leading hits (not for order questions and overviews):
  // guessed from the fused ids, they are read with the candidates' rows.
  const stretchWindowS = browse || parsed.order ? undefined : Math.max(settings.visualWindowS, settings.audioWindowS);
  // Order questions read what followed the first candidate with the candidates' rows, as widening will ask.
  const sequel = browse ? undefined : sequelAsk(parsed, wall, settings.maxEvidence);
  const retrieval = await retrieve(memory, { parsed, filter, vectors, words, quoted: parsed.quoted, browse, ...(stretchWindowS !== undefined ? { stretchWindowS } : {}), ...(sequel ? { sequel } : {}) }, settings);
  signal.throwIfAborted();
  log.debug({ stage: retrieval.stage, confidence: retrieval.firstConfidence, hits: retrieval.ranked.length }, 'retrieved');

  // Widen in time: order, neighbours, cross-modal completion.
  const widenStart = performance.now();
  const items = await widenEvidence(memory, settings, { parsed, words, wall, browse }, retrieval.ranked, retrieval.listing, retrieval.sequel);
  const detailMs = Math.round((retrieval.detailMs + (performance.now() - widenStart)) * 100) / 100;

  // Answer.
  const answerStart = performance.now();
  const { answer, evidenceItems } = await writeAnswer(deps, understood, items, now, signal);
  const answerMs = ms(answerStart);

  // Reinforce what was recalled, without making the user wait for the write.
  reinforceRecalled(deps, evidenceItems, now);

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

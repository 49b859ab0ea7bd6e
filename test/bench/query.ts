// Question latency without an LLM, on 10k and 100k stored events: p50/p95 per size and the share of
// time in parsing, embedding, search (first stage, moments and the time-widening reads), fusion and
// answer writing, CPU ms per question (all threads), the store calls a question makes with their
// mean time, and the recall of the 512-d search at the reasoner's candidate depth against an exact
// (index-free) search.
// Memory is real LanceDB in a temp directory, written through MemoryStore; the text
// encoders are the project's tiny test models run by the real ModelRepository (8-d, so embedding is
// cheap here), plus one 512-d space whose question vector is a seeded hash of the words, so vector
// search is measured at a realistic width. Run: npx tsx test/bench/query.ts [--sizes 10000,100000] [--optimized-only]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { ReasonSchema } from '../../config/schema.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { testModelsConfig } from '../helpers/test-models.js';
import { COLOURS } from '../models/build-test.js';
import { RuntimeModels, StoreMemory } from '../../pipelines/reason/adapters.js';
import { answerQuestion, type ReasonDeps } from '../../pipelines/reason/answer-question.js';
import type { QueryTimings } from '../../pipelines/reason/answer-types.js';
import { SourceKind } from '../../pipelines/reason/fusion.js';
import { words } from '../../pipelines/reason/keywords.js';
import type { ReasonModels } from '../../pipelines/reason/ports.js';
import { MemoryStore, type EventWrite } from '../../pipelines/repositories/memory-store.js';
import { silentLogger } from '../../services/logger.js';

const WIDE = 'bench-512';
const WIDE_DIMS = 512;
const EPOCH = Date.UTC(2026, 10, 20, 0, 0, 0);
const NOW = EPOCH + 8 * 86_400_000;
const STREAMS = ['garage', 'front-door', 'kitchen', 'porch'];
const NOUNS = ['car', 'van', 'parcel', 'dog', 'cat', 'person', 'bicycle', 'truck', 'delivery', 'door', 'bag', 'ladder', 'box', 'phone', 'umbrella'];
const VERBS = ['arrives', 'leaves', 'waits', 'passes', 'stops', 'opens', 'rings', 'carries', 'drops', 'turns'];
const SAID = ['hello there', 'your parcel is here', 'please sign here', 'the door is open', 'see you tomorrow', 'is anyone home', 'I will be back soon'];
const SIGNS = ['DELIVERY NOTICE', 'NO PARKING', 'EXIT', 'OPEN', 'CLOSED', 'SALE 50%', 'PRIVATE'];

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 512-d unit vector from the words of a text: texts sharing words point the same way. */
function hashVector(text: string): Float32Array {
  const v = new Float32Array(WIDE_DIMS);
  for (const w of words(text)) {
    let h = 2166136261;
    for (let i = 0; i < w.length; i += 1) h = Math.imul(h ^ w.charCodeAt(i), 16777619);
    const r = seeded(h);
    for (let i = 0; i < WIDE_DIMS; i += 1) v[i] = (v[i] as number) + (r() - 0.5);
  }
  let n = 0;
  for (let i = 0; i < WIDE_DIMS; i += 1) n += (v[i] as number) ** 2;
  const s = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < WIDE_DIMS; i += 1) v[i] = (v[i] as number) * s;
  return v;
}

/** The real runtime's spaces plus the 512-d hashed one (declared a sentence space). */
function benchModels(real: RuntimeModels): ReasonModels {
  return {
    textSpaces: () => [...real.textSpaces(), { id: WIDE, kind: SourceKind.Sentence }],
    imageSpaces: () => real.imageSpaces(),
    audioSpaces: () => real.audioSpaces(),
    embedText: async (space, text, signal) => (space === WIDE ? hashVector(text) : real.embedText(space, text, signal)),
    embedImage: (space, image, signal) => real.embedImage(space, image, signal),
    embedAudio: (space, pcm, signal) => real.embedAudio(space, pcm, signal),
  };
}

async function fill(store: MemoryStore, repo: ModelRepository, count: number): Promise<void> {
  const rand = seeded(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)] as T;
  const colourNames = Object.keys(COLOURS);
  // Colour vectors through the real tiny image encoder, once per colour.
  const colourVectors = new Map<string, Float32Array>();
  for (const name of colourNames) {
    const [r, g, b] = COLOURS[name] as [number, number, number];
    const rgb = new Uint8Array(32 * 32 * 3);
    for (let i = 0; i < rgb.length; i += 3) [rgb[i], rgb[i + 1], rgb[i + 2]] = [r, g, b];
    colourVectors.set(name, (await repo.embedImages('tiny-color', [{ rgb, width: 32, height: 32 }]))[0] as Float32Array);
  }
  const sentenceCache = new Map<string, Float32Array>();
  const perStream = new Map<string, number>();
  const batch = 25_000;
  for (let done = 0; done < count; done += batch) {
    const events: EventWrite[] = [];
    for (let i = done; i < Math.min(count, done + batch); i += 1) {
      const stream = STREAMS[i % STREAMS.length] as string;
      const start = perStream.get(stream) ?? 0;
      const length = 5 + Math.floor(rand() * 20);
      perStream.set(stream, start + length);
      const colour = pick(colourNames);
      const kind = rand();
      const transcript = kind < 0.3 ? pick(SAID) : '';
      const ocr = kind > 0.85 ? pick(SIGNS) : '';
      const summary = `A ${colour} ${pick(NOUNS)} ${pick(VERBS)}${transcript ? `; someone says "${transcript}"` : ''}${ocr ? `; text on screen: ${ocr}` : ''}`;
      let sentence = sentenceCache.get(summary);
      if (!sentence) {
        sentence = (await repo.embedTexts('tiny-minilm', [summary]))[0] as Float32Array;
        if (sentenceCache.size < 5_000) sentenceCache.set(summary, sentence);
      }
      // Events of the four streams interleave over eight days of wall clock.
      const startedAt = EPOCH + Math.round(((i / count) * 8 * 86_400_000));
      const id = `${stream}.${String(Math.round(start * 1000)).padStart(10, '0')}`;
      events.push({
        id, stream, start, end: start + length, startedAt, endedAt: startedAt + length * 1000, summary, transcript, ocr,
        tags: [transcript ? 'speech' : 'silence', ...(ocr ? ['text'] : [])], thumbnail: `thumbs/${id}.jpg`, strength: 1, recallCount: 0,
        lastRecalledAt: null, level: 0, needsSummary: true, salience: 0.5, novelty: 0.5, momentCount: 0, mergedIds: [id], closedBy: 'surprise',
        consolidatedAt: startedAt, vectors: { 'tiny-color': colourVectors.get(colour) as Float32Array, 'tiny-minilm': sentence, [WIDE]: hashVector(summary) },
      });
    }
    await store.upsertEvents(events);
  }
}

const QUESTIONS = [
  'What did the delivery notice say?',
  'What was said about the parcel?',
  'When did I see a red car?',
  'What happened after the doorbell rang?',
  'Who said please sign here on the garage camera?',
  'Did a blue van stop yesterday evening?',
  'What was written on the sign in the last 2 hours?',
  'What did the astronaut say about the moon?',
  'What happened this morning on the porch?',
  'Show me the purple umbrella',
];

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Per store method: calls and wall ms summed over the measured questions (the profile of a question's reads). */
type StoreProfile = Map<string, { calls: number; ms: number }>;

/**
 * The store with every method timed into `profile`. Methods run on the store itself (its private
 * fields do not survive a Proxy receiver); calls that overlap are each timed whole, so the sum
 * can exceed a question's wall time where searches run in parallel.
 */
function profiled(store: MemoryStore, profile: StoreProfile): MemoryStore {
  return new Proxy(store, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return async (...args: unknown[]) => {
        const start = performance.now();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          const entry = profile.get(prop) ?? { calls: 0, ms: 0 };
          entry.calls += 1;
          entry.ms += performance.now() - start;
          profile.set(prop, entry);
        }
      };
    },
  });
}

async function measure(deps: ReasonDeps, rounds: number, profile: StoreProfile) {
  const signal = new AbortController().signal;
  // Warm up: first queries open files and caches.
  for (const q of QUESTIONS) await answerQuestion(deps, { question: q, now: NOW }, signal);
  profile.clear();
  const totals: number[] = [];
  const byQuestion = new Map<string, number[]>(QUESTIONS.map((q) => [q, []]));
  const sums: Record<keyof QueryTimings, number> = { totalMs: 0, parseMs: 0, embedMs: 0, searchMs: 0, fusionMs: 0, detailMs: 0, answerMs: 0 };
  // CPU of every thread of the process (LanceDB's included): what a question costs a quiet machine.
  const cpuStart = process.cpuUsage();
  for (let r = 0; r < rounds; r += 1) {
    for (const q of QUESTIONS) {
      const start = performance.now();
      const a = await answerQuestion(deps, { question: q, now: NOW }, signal);
      const elapsed = performance.now() - start;
      totals.push(elapsed);
      byQuestion.get(q)?.push(elapsed);
      for (const key of Object.keys(sums) as (keyof QueryTimings)[]) sums[key] += a.timings[key];
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  totals.sort((a, b) => a - b);
  const share = (ms: number) => round(ms / sums.totalMs);
  const storeCalls = Object.fromEntries(
    [...profile.entries()].sort((a, b) => b[1].ms - a[1].ms).map(([name, e]) => [name, { perQuestion: round(e.calls / totals.length), meanMs: round(e.ms / e.calls) }]),
  );
  return {
    questions: totals.length,
    p50Ms: round(percentile(totals, 50)),
    p95Ms: round(percentile(totals, 95)),
    maxMs: round(totals[totals.length - 1] ?? 0),
    cpuMsPerQuestion: round((cpu.user + cpu.system) / 1000 / totals.length),
    share: {
      parse: share(sums.parseMs),
      embedding: share(sums.embedMs),
      search: share(sums.searchMs + sums.detailMs),
      fusion: share(sums.fusionMs),
      answerWriting: share(sums.answerMs),
    },
    meanMs: {
      parse: round(sums.parseMs / totals.length),
      embedding: round(sums.embedMs / totals.length),
      firstStageSearch: round(sums.searchMs / totals.length),
      momentsAndWidening: round(sums.detailMs / totals.length),
      fusion: round(sums.fusionMs / totals.length),
      answerWriting: round(sums.answerMs / totals.length),
    },
    storeCalls,
    // Which questions hold the median up: each question's own p50 over the rounds.
    p50MsByQuestion: Object.fromEntries([...byQuestion].map(([q, ms]) => [q, round(percentile([...ms].sort((a, b) => a - b), 50))])),
  };
}

/**
 * Recall of the 512-d first-stage search (the reasoner's `candidates` limit) against the exact
 * search, per question. Summaries repeat, so many events tie on similarity: a hit counts when its
 * similarity reaches the exact k-th one (refined hits carry exact distances).
 */
async function vectorRecall(indexed: MemoryStore, exact: MemoryStore, limit: number): Promise<number> {
  let found = 0;
  let wanted = 0;
  for (const q of QUESTIONS) {
    const vector = hashVector(q);
    const truth = await exact.eventVectorHits({ space: WIDE, vector, limit });
    const got = await indexed.eventVectorHits({ space: WIDE, vector, limit });
    const kth = truth[truth.length - 1]?.score ?? -Infinity;
    wanted += truth.length;
    found += Math.min(truth.length, got.filter((h) => h.score >= kth - 1e-5).length);
  }
  return wanted > 0 ? round(found / wanted) : 1;
}

async function main(): Promise<void> {
  const arg = process.argv.indexOf('--sizes');
  const sizes = arg > 0 ? (process.argv[arg + 1] ?? '').split(',').map(Number) : [10_000, 100_000];
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  // BENCH_DIR keeps the filled tables between runs (for profiling); by default a temp dir is removed.
  const keep = process.env.BENCH_DIR;
  const dir = keep ?? mkdtempSync(join(tmpdir(), 'engram-bench-query-'));
  const results: unknown[] = [];
  try {
    const loaded = loadConfig({ env: {}, overrides: { dataDir: dir, ...testModelsConfig() } });
    const repo = await ModelRepository.open({ config: loaded.config.models, paths: loaded.paths, log: silentLogger() });
    for (const size of sizes) {
      const store = await MemoryStore.open(join(dir, `lancedb-${size}`));
      const fillStart = performance.now();
      if ((await store.countEvents()) !== size) await fill(store, repo, size);
      const fillMs = performance.now() - fillStart;
      const profile: StoreProfile = new Map();
      const models = benchModels(new RuntimeModels(repo));
      const settings = ReasonSchema.parse({ reinforce: false });
      const deps: ReasonDeps = { memory: new StoreMemory(profiled(store, profile)), models, settings, timeZone: 'UTC' };
      // Right after writing: new rows are not in any index yet (what a query sees between optimizations).
      const fresh = process.argv.includes('--optimized-only') ? undefined : await measure(deps, rounds, profile);
      // What the consolidate role's OptimizeTables job does: compaction, then vector and full-text indexes.
      const optimizeStart = performance.now();
      await store.compact();
      const built = await store.buildIndexes({ vectorMinRows: 10_000, ftsMinRows: 256, growth: 2 });
      const optimizeMs = performance.now() - optimizeStart;
      const optimized = await measure(deps, rounds, profile);
      const exactStore = await MemoryStore.open(join(dir, `lancedb-${size}`), { exact: true });
      const recall = await vectorRecall(store, exactStore, settings.candidates);
      await exactStore.close();
      results.push({
        events: size,
        fillSeconds: round(fillMs / 1000),
        ...(fresh ? { beforeOptimize: fresh } : {}),
        afterOptimize: { indexes: built, optimizeSeconds: round(optimizeMs / 1000), vectorRecallAtCandidates: recall, ...optimized },
      });
      await store.close();
    }
    await repo.close();
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        bench: 'query',
        note: 'no LLM; text encoders are the tiny test models (8-d) plus a 512-d hashed sentence space; goal p50 < 50 ms and p95 < 150 ms at 100k',
        questionsPerRound: QUESTIONS.length,
        results,
      },
      null,
      2,
    )}\n`,
  );
}

await main();

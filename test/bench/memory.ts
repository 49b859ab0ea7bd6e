// Benchmark of long-term memory (LanceDB), printing JSON:
//  - insert throughput (batched merge-insert of events) and query latency p50/p95 at each size,
//    LanceDB without an index, with an IVF-PQ index, and a brute-force JS scan over the same
//    vectors in the same run (recall@10 of each against the brute-force answer), and the IVF-PQ
//    search at other refine depths (REFINE_CANDIDATES in memory-store.ts) for the trade-off;
//  - bytes on disk per event;
//  - bytes of long-term memory per stream-hour before and after pruning, for an hour of events
//    shaped like the pipeline's on car-detection.mp4 (1 event per ~10 s, 1 keyframe moment per
//    second, 512-d). SYNTHETIC: the perception pipeline is not built yet, so the events are
//    generated, and go through the real consolidation path (consolidateEvent + MaintainMemory).
// Run: npx tsx test/bench/memory.ts [--sizes 10000,100000] [--dims 512] [--queries 50]
//      (--sizes 10000,100000,1000000 for 1M: needs ~2 GB for the brute-force copy of the vectors)
// The 1M run, cut to what its goal needs (same rows, queries and exact answers; only less of what the
// recall/speed goal does not need): --batch 100000 --singles 3 --scan-queries 5 --skip-hour.
// Each merge-insert joins its batch against the whole table: in 5,000-row batches the 1M insert
// took 2518 s. The unindexed LanceDB searches read every vector, so a handful gives their median.
// The exact answers (recall's truth) are always the JS scan over every query.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigSchema } from '../../config/schema.js';
import { consolidateEvent } from '../../pipelines/consolidate/consolidate.js';
import { runBuildEpisodes, runMaintainMemory } from '../../pipelines/consolidate/maintenance.js';
import { makeSummarizer } from '../../pipelines/consolidate/summary.js';
import { LlmClient } from '../../pipelines/repositories/llm.js';
import { MemoryStore, NPROBES, PQ_DIMS_PER_SUB_VECTOR, REFINE_CANDIDATES, ROWS_PER_REFINE_CANDIDATE, type EventWrite } from '../../pipelines/repositories/memory-store.js';
import { EPOCH, near, seeded, syntheticEvent, unitVector } from '../helpers/events.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    dims: { type: 'string', default: '512' },
    queries: { type: 'string', default: '50' },
    'skip-hour': { type: 'boolean', default: false },
    // Rows per upsertEvents call while filling (one merge-insert each).
    batch: { type: 'string', default: '5000' },
    // Single-event upserts timed on the grown table (the consolidate role's write).
    singles: { type: 'string', default: '20' },
    // Queries the unindexed LanceDB searches run (the first of --queries); default all of them.
    'scan-queries': { type: 'string' },
    // PQ code widths (dimensions per sub-vector) to build and sweep, one index after the other on
    // the same table: the first is what the sizes' headline numbers use.
    'pq-widths': { type: 'string', default: String(PQ_DIMS_PER_SUB_VECTOR) },
    // nprobes and refine depths swept on each index (recall and latency of each pair).
    nprobes: { type: 'string', default: `${NPROBES},${NPROBES * 2}` },
    refines: { type: 'string', default: '100,300,1000,2000,4000' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const dims = Number(values.dims);
const queries = Number(values.queries);
const K = 10;
const pqWidths = values['pq-widths'].split(',').map(Number);
const batch = Number(values.batch);
const singles = Math.min(20, Number(values.singles));
const scanQueries = Math.min(queries, Number(values['scan-queries'] ?? queries));
const probeSweep = values.nprobes.split(',').map(Number);
const refineSweepDepths = values.refines.split(',').map(Number);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Number((s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0).toFixed(2));
};
const lat = (xs: number[]) => ({ p50Ms: pct(xs, 50), p95Ms: pct(xs, 95) });

function bruteForce(all: Float32Array, n: number, q: Float32Array, k: number): number[] {
  // Vectors are unit length, so cosine is the dot product; keep the top k in a small sorted list.
  const best: { i: number; s: number }[] = [];
  for (let i = 0; i < n; i += 1) {
    let dot = 0;
    const off = i * dims;
    for (let d = 0; d < dims; d += 1) dot += (all[off + d] as number) * (q[d] as number);
    if (best.length < k || dot > (best[best.length - 1] as { s: number }).s) {
      best.push({ i, s: dot });
      best.sort((a, b) => b.s - a.s);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.i);
}

/** Progress on stderr (stdout is the JSON): a 1M run takes long enough to want to know where it is. */
const progress = (n: number, what: string) => process.stderr.write(`[memory bench ${new Date().toISOString()}] ${n}: ${what}\n`);

const idOf = (i: number) => `bench.${String(i * 10_000).padStart(10, '0')}`;

function eventRow(i: number, vector: Float32Array): EventWrite {
  return {
    id: idOf(i), stream: 'bench', start: i * 10, end: i * 10 + 10, startedAt: EPOCH + i * 10_000, endedAt: EPOCH + i * 10_000 + 10_000,
    summary: `Scene ${i % 97} with ${i % 7 === 0 ? 'a car passing' : 'low motion'} on bench for 10 s.`, transcript: i % 11 === 0 ? `someone says number ${i}` : '', ocr: '',
    tags: ['motion-low'], thumbnail: `bench/${i}.jpg`, strength: 1.2, recallCount: 0, lastRecalledAt: null, level: 0, needsSummary: true,
    vectors: { clip: vector }, salience: 0.2, novelty: 0.3, momentCount: 10, mergedIds: [idOf(i)], closedBy: 'surprise', consolidatedAt: EPOCH,
  };
}

async function sizeRun(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-'));
  const store = await MemoryStore.open(join(dir, 'lancedb'));
  const rand = seeded(n);
  // Clustered vectors (scenes recur), like camera footage, so an IVF index has structure to use.
  const centroids = Array.from({ length: 256 }, () => unitVector(dims, rand));
  const all = new Float32Array(n * dims);
  const t0 = performance.now();
  for (let b = 0; b < n; b += batch) {
    const rows: EventWrite[] = [];
    for (let i = b; i < Math.min(n, b + batch); i += 1) {
      const v = near(centroids[Math.floor(rand() * centroids.length)] as Float32Array, 0.6, rand);
      all.set(v, i * dims);
      rows.push(eventRow(i, v));
    }
    await store.upsertEvents(rows);
    if (n >= 500_000) progress(n, `${Math.min(n, b + batch)} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const insertSeconds = (performance.now() - t0) / 1000;
  progress(n, `inserted in ${insertSeconds.toFixed(1)} s`);
  // Single-event upserts (the consolidate role's path) on the grown table.
  const single: number[] = [];
  // Twenty vectors drawn whatever --singles says, so the queries after them are the same.
  const singleVectors = Array.from({ length: 20 }, () => unitVector(dims, rand));
  for (let j = 0; j < singles; j += 1) {
    const t = performance.now();
    await store.upsertEvent(eventRow(n + j, singleVectors[j] as Float32Array));
    single.push(performance.now() - t);
  }
  await store.compact({ keepVersionsMs: 0 });
  const stats = await store.tableStats();

  progress(n, 'compacted; brute-force answers next');
  const qs = Array.from({ length: queries }, () => near(centroids[Math.floor(rand() * centroids.length)] as Float32Array, 0.6, rand));
  const truth: number[][] = [];
  const brute: number[] = [];
  for (const q of qs) {
    const t = performance.now();
    truth.push(bruteForce(all, n, q, K));
    brute.push(performance.now() - t);
  }
  const recall = (got: string[][]) => {
    let hit = 0;
    got.forEach((ids, qi) => {
      const want = new Set((truth[qi] ?? []).map(idOf));
      hit += ids.filter((id) => want.has(id)).length;
    });
    return Number((hit / (got.length * K)).toFixed(3));
  };
  const search = async (on: MemoryStore = store, count = queries) => {
    const times: number[] = [];
    const ids: string[][] = [];
    for (const q of qs.slice(0, count)) {
      const t = performance.now();
      const hits = await on.vectorSearch({ table: 'events', space: 'clip', vector: q, limit: K });
      times.push(performance.now() - t);
      ids.push(hits.map((h) => h.row.id));
    }
    return { ...lat(times), recallAt10: recall(ids) };
  };
  const filtered = async (count = queries) => {
    const times: number[] = [];
    for (const q of qs.slice(0, count)) {
      const t = performance.now();
      await store.vectorSearch({ table: 'events', space: 'clip', vector: q, limit: K, filter: { streams: ['bench'], wall: { from: EPOCH + n * 5_000, to: Infinity } } });
      times.push(performance.now() - t);
    }
    return lat(times);
  };
  const text = async () => {
    const times: number[] = [];
    for (let j = 0; j < queries; j += 1) {
      const t = performance.now();
      await store.textSearch({ query: `car number ${j * 11}`, limit: K });
      times.push(performance.now() - t);
    }
    return lat(times);
  };

  progress(n, 'brute force done; searches without an index next');
  const noIndex = { ...(await search(store, scanQueries)), queries: scanQueries };
  const noIndexFiltered = { ...(await filtered(scanQueries)), queries: scanQueries };
  const textNoRebuild = await text();
  progress(n, `no-index searches done (p50 ${noIndex.p50Ms} ms); building indexes`);
  // One index per PQ width, built in turn on the same rows (replacing the last), each swept over
  // nprobes x refine depth: one run shows where recall and latency meet.
  const indexes: Record<string, unknown> = {};
  let withIndex: Awaited<ReturnType<typeof search>> | undefined;
  let built: string[] = [];
  let indexSeconds = 0;
  for (const [w, width] of pqWidths.entries()) {
    const ti = performance.now();
    // growth 0 rebuilds what exists (the second and later widths).
    const made = await store.buildIndexes({ vectorMinRows: Math.min(n, 10_000), ftsMinRows: 1, growth: w === 0 ? 2 : 0, pqDimsPerSubVector: width });
    const seconds = (performance.now() - ti) / 1000;
    progress(n, `indexes with ${width}-d PQ sub-vectors built in ${seconds.toFixed(1)} s`);
    const defaults = await search();
    progress(n, `IVF-PQ (${width}-d sub-vectors) p50 ${defaults.p50Ms} ms, recall@10 ${defaults.recallAt10}`);
    const sweep: Record<string, Awaited<ReturnType<typeof search>>> = {};
    for (const nprobes of probeSweep) {
      for (const candidates of refineSweepDepths) {
        const other = await MemoryStore.open(join(dir, 'lancedb'), { nprobes, refineCandidates: candidates });
        sweep[`nprobes${nprobes}-refine${candidates}`] = await search(other);
        await other.close();
      }
    }
    progress(n, `sweep: ${JSON.stringify(sweep)}`);
    indexes[`pq${width}dPerSubVector`] = { buildSeconds: Number(seconds.toFixed(1)), built: made, defaults, sweep };
    if (w === 0) {
      withIndex = defaults;
      built = made;
      indexSeconds = seconds;
    }
  }
  if (!withIndex) throw new Error('--pq-widths names no width');
  const withIndexFiltered = await filtered();
  const textIndexed = await text();
  const after = await store.tableStats();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    events: n,
    dims,
    insert: { eventsPerSecond: Math.round(n / insertSeconds), seconds: Number(insertSeconds.toFixed(1)), batch, singleUpsert: lat(single) },
    bytesOnDiskPerEvent: Math.round((stats.diskBytes ?? 0) / stats.tables.events.rows),
    bytesOnDiskPerEventWithIndexes: Math.round((after.diskBytes ?? 0) / after.tables.events.rows),
    query: {
      bruteForceJs: lat(brute),
      lancedbNoIndex: noIndex,
      lancedbNoIndexFiltered: noIndexFiltered,
      lancedbIvfPq: { ...withIndex, nprobes: NPROBES, refineCandidates: Math.max(REFINE_CANDIDATES, Math.ceil(n / ROWS_PER_REFINE_CANDIDATE)) },
      lancedbIvfPqByPqWidth: indexes,
      lancedbIvfPqFiltered: withIndexFiltered,
      indexBuild: { seconds: Number(indexSeconds.toFixed(1)), built },
      speedupIvfPqVsBruteForce: Number((pct(brute, 50) / Math.max(0.001, withIndex.p50Ms)).toFixed(1)),
      speedupNoIndexVsBruteForce: Number((pct(brute, 50) / Math.max(0.001, noIndex.p50Ms)).toFixed(1)),
      fullText: textNoRebuild,
      fullTextAfterRebuild: textIndexed,
    },
  };
}

async function hourRun() {
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-hour-'));
  const store = await MemoryStore.open(join(dir, 'lancedb'));
  const config = ConfigSchema.parse({});
  const summarizer = makeSummarizer(new LlmClient(config.llm), async () => undefined, { maxImages: 0 });
  const rand = seeded(42);
  // Car-detection.mp4 is 30 s of a road: a quiet scene with cars passing at ~5-8, 14-18, 25-27 s.
  const road = unitVector(dims, rand);
  const car = near(road, 1.2, rand);
  const t0 = performance.now();
  let stored = 0;
  for (let i = 0; i < 360; i += 1) {
    const inLoop = (i * 10) % 30;
    const hasCar = inLoop !== 20 || i % 2 === 0;
    const e = syntheticEvent({ stream: 'car-detection', start: i * 10, length: 10, dims, scene: hasCar ? near(car, 0.4, rand) : road, noise: 0.35, tags: [hasCar ? 'motion-medium' : 'motion-low'], thumbnails: (t) => `car-detection/${t.toFixed(3)}.jpg`, seed: i + 1 });
    const outcome = await consolidateEvent(e, { store, summarizer, memory: config.memory });
    if (outcome.status !== 'duplicate') stored += 1;
  }
  const seconds = (performance.now() - t0) / 1000;
  await runBuildEpisodes(store, config.memory, EPOCH + 3_600_000);
  await store.compact({ keepVersionsMs: 0 });
  const before = await store.tableStats();
  const run = await runMaintainMemory({ store, deleteBlobs: async () => 0, summarizer, llmConfigured: false }, config.memory, EPOCH + 31 * 86_400_000);
  await store.compact({ keepVersionsMs: 0 });
  const after = await store.tableStats();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    synthetic: true,
    note: 'events shaped like the pipeline on car-detection.mp4 looped to one hour (the pipeline is not built yet); thumbnails (JPEG blobs) are outside LanceDB and not counted',
    closedEvents: 360,
    consolidated: stored,
    eventRows: before.tables.events.rows,
    consolidateEventsPerSecond: Number((360 / seconds).toFixed(1)),
    beforePruning: { bytesPerStreamHour: before.diskBytes, moments: before.tables.moments.rows },
    afterPruning: { bytesPerStreamHour: after.diskBytes, moments: after.tables.moments.rows, events: after.tables.events.rows, episodes: after.tables.episodes.rows },
    pruned: run,
  };
}

const results = [];
for (const n of sizes) results.push(await sizeRun(n));
const hour = values['skip-hour'] ? undefined : await hourRun();
process.stdout.write(`${JSON.stringify({ bench: 'memory', sizes: results, streamHour: hour }, null, 2)}\n`);

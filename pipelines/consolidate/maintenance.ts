// The scheduled side of long-term memory: hour/day episodes, decay and retention pruning (with
// summary upgrades once an LLM answers), and table compaction and indexing.
import type { Config } from '../../config/schema.js';
import type { MemoryStore } from '../repositories/memory-store.js';
import { buildEpisodes, DAY_MS } from './episodes.js';
import type { Summarizer } from './summary.js';

export type MaintenanceStore = Pick<
  MemoryStore,
  'eventsWithVectors' | 'upsertEpisodes' | 'decay' | 'pruneMoments' | 'eventsNeedingSummary' | 'setSummary' | 'compact' | 'buildIndexes' | 'momentsOfEvent'
>;

export interface EpisodeRun {
  episodes: number;
  events: number;
}

/** (Re)builds the episodes of every whole UTC day touched by the lookback window. */
export async function runBuildEpisodes(store: MaintenanceStore, memory: Config['memory'], now: number, stream?: string): Promise<EpisodeRun> {
  const since = Math.floor((now - memory.episodeLookbackHours * 3_600_000) / DAY_MS) * DAY_MS;
  const events = await store.eventsWithVectors({ ...(stream !== undefined ? { streams: [stream] } : {}), wall: { from: since, to: Number.POSITIVE_INFINITY } });
  // Events that began before the first whole day but overlap it would distort its first hour.
  const inside = events.filter((e) => e.startedAt >= since);
  const episodes = buildEpisodes(inside, now);
  await store.upsertEpisodes(episodes);
  return { episodes: episodes.length, events: inside.length };
}

export interface MaintainRun {
  decayed: number;
  prunedMoments: number;
  prunedEvents: number;
  deletedThumbnails: number;
  upgradedSummaries: number;
}

export async function runMaintainMemory(
  deps: { store: MaintenanceStore; deleteBlobs: (paths: string[]) => Promise<number>; summarizer: Summarizer; llmConfigured: boolean; signal?: AbortSignal },
  memory: Config['memory'],
  now: number,
): Promise<MaintainRun> {
  const decayed = await deps.store.decay(now);
  const pruned = await deps.store.pruneMoments({ olderThan: now - memory.momentMaxAgeDays * DAY_MS, retentionBelow: memory.pruneRetentionBelow, now });
  // Rows first, files after: a crash in between leaves an unused file, never a row without its file.
  const deletedThumbnails = await deps.deleteBlobs(pruned.thumbnails);
  let upgradedSummaries = 0;
  if (deps.llmConfigured && memory.summaryUpgradesPerRun > 0) {
    for (const event of await deps.store.eventsNeedingSummary(memory.summaryUpgradesPerRun)) {
      if (deps.signal?.aborted) break;
      const moments = await deps.store.momentsOfEvent(event.id);
      const thumbnails = [event.thumbnail, ...moments.map((m) => m.thumbnail)].filter((t): t is string => typeof t === 'string' && t.length > 0);
      // The model gets what the detector saw here too, as it does when it summarises on consolidation.
      const objects = { labels: event.labels, counts: event.counts, tracks: event.tracks };
      const result = await deps.summarizer.summarize({ ...event, thumbnails, objects }, deps.signal);
      // The endpoint still fails: stop for this run instead of trying every event in turn.
      if (result.needsSummary) break;
      await deps.store.setSummary(event.id, result.summary, [...new Set([...event.tags, ...result.tags])]);
      upgradedSummaries += 1;
    }
  }
  return { decayed, prunedMoments: pruned.moments, prunedEvents: pruned.events, deletedThumbnails, upgradedSummaries };
}

export async function runOptimizeTables(store: MaintenanceStore, memory: Config['memory']): Promise<{ indexes: string[] }> {
  await store.compact();
  const indexes = await store.buildIndexes({ vectorMinRows: memory.vectorIndexMinRows, ftsMinRows: memory.ftsIndexMinRows, growth: memory.reindexGrowth });
  return { indexes };
}

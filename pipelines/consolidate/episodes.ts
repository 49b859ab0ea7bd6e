// Hierarchical episodes (HCAM-style coarse summaries): per stream, one per UTC hour and one per UTC
// day, built from the events inside them, with mean vectors and an extractive summary.
import type { StoredEvent } from '../records/event.js';
import type { EpisodeWrite } from '../repositories/memory-store.js';
import { unionTags } from './completion.js';
import { meanBySpace } from '../vectors.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface EpisodeSource extends StoredEvent {
  vectors: Record<string, Float32Array>;
  salience: number;
}

const hh = (ms: number) => new Date(ms).toISOString().slice(11, 16);

function summarise(level: 1 | 2, from: number, to: number, events: EpisodeSource[]): string {
  const span = level === 1 ? `${hh(from)}-${hh(to)} UTC` : `${new Date(from).toISOString().slice(0, 10)} (UTC)`;
  const counts = new Map<string, number>();
  for (const e of events) for (const t of e.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5).map(([t, n]) => `${t} ${n}`);
  const highlights = [...events]
    .sort((a, b) => b.salience - a.salience || a.startedAt - b.startedAt)
    .slice(0, 3)
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((e) => `${hh(e.startedAt)} ${e.summary}`);
  const head = `${events.length} event${events.length === 1 ? '' : 's'} on ${events[0]?.stream ?? '?'} ${span}${top.length ? ` (${top.join(', ')})` : ''}.`;
  return [head, ...highlights].join(' ');
}

/** Episodes for every hour and day that holds at least one of the given events. */
export function buildEpisodes(events: readonly EpisodeSource[], now: number): EpisodeWrite[] {
  const groups = new Map<string, { level: 1 | 2; stream: string; from: number; events: EpisodeSource[] }>();
  for (const e of events) {
    for (const level of [1, 2] as const) {
      const size = level === 1 ? HOUR_MS : DAY_MS;
      const from = Math.floor(e.startedAt / size) * size;
      const key = `${e.stream}|${level}|${from}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { level, stream: e.stream, from, events: [] }));
      g.events.push(e);
    }
  }
  const out: EpisodeWrite[] = [];
  for (const g of groups.values()) {
    const size = g.level === 1 ? HOUR_MS : DAY_MS;
    const sorted = [...g.events].sort((a, b) => a.startedAt - b.startedAt);
    const iso = new Date(g.from).toISOString();
    out.push({
      id: `${g.stream}.${g.level === 1 ? 'h' : 'd'}.${g.level === 1 ? iso.slice(0, 13) : iso.slice(0, 10)}`,
      stream: g.stream,
      level: g.level,
      startedAt: g.from,
      endedAt: g.from + size - 1,
      start: Math.min(...sorted.map((e) => e.start)),
      end: Math.max(...sorted.map((e) => e.end)),
      summary: summarise(g.level, g.from, g.from + size, sorted),
      tags: unionTags(...sorted.map((e) => e.tags)).slice(0, 32),
      eventCount: sorted.length,
      // Day episodes find their events by time; listing thousands of ids would bloat every row.
      eventIds: g.level === 1 ? sorted.map((e) => e.id) : [],
      needsSummary: true,
      updatedAt: now,
      vectors: meanBySpace(sorted.map((e) => e.vectors)),
    });
  }
  return out.sort((a, b) => a.startedAt - b.startedAt || a.level - b.level);
}

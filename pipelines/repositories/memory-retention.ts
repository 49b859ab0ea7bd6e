// How memories fade and are kept (MemoryBank): recall reinforces an event, time decays its
// retention, and perceptual detail (moments) is pruned past retention while the event, its
// semantic record, stays. Also the later upgrade of extractive summaries.
import type { StoredEvent } from '../records/event.js';
import type { MemoryReads } from './memory-reads.js';
import type { MemoryTables } from './memory-tables.js';
import { sqlIn, sqlNumber, sqlQuoted, sqlString } from './sql.js';

const DAY_MS = 86_400_000;

export class MemoryRetention {
  readonly #t: MemoryTables;
  readonly #reads: MemoryReads;
  readonly #reinforceDays: number;

  /** `reinforceDays`: strength (days) added per recall. */
  constructor(tables: MemoryTables, reads: MemoryReads, reinforceDays: number) {
    this.#t = tables;
    this.#reads = reads;
    this.#reinforceDays = reinforceDays;
  }

  /** MemoryBank reinforcement: each recalled event gains strength, a recall, and a fresh start. */
  async reinforce(ids: string[], now: number): Promise<void> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return;
    await this.#t.write(() =>
      this.#t.table('events').update({
        where: sqlIn('id', unique),
        valuesSql: {
          strength: `strength + ${sqlNumber(this.#reinforceDays)}`,
          recallCount: `${sqlQuoted('recallCount')} + 1`,
          lastRecalledAt: sqlNumber(now),
          retention: '1.0',
        },
      }),
    );
  }

  /** Recomputes retention exp(-elapsed / strength) of every event (elapsed since its end or last recall). */
  async decay(now: number): Promise<number> {
    const since = `greatest(${sqlQuoted('endedAt')}, coalesce(${sqlQuoted('lastRecalledAt')}, 0.0))`;
    const result = await this.#t.write(() =>
      this.#t.table('events').update({ valuesSql: { retention: `exp(-(greatest(${sqlNumber(now)} - ${since}, 0.0)) / (strength * ${DAY_MS}.0))` } }),
    );
    return Number(result.rowsUpdated ?? 0);
  }

  /**
   * Prunes perceptual detail: moments older than `olderThan` (epoch ms), and all moments of events
   * whose retention is below `retentionBelow`. Events and episodes stay. Returns the thumbnails of
   * the deleted moments, minus those still used as an event's thumbnail, for the caller to delete.
   */
  async pruneMoments(options: { olderThan: number; retentionBelow: number; now: number }): Promise<{ moments: number; events: number; thumbnails: string[] }> {
    const events = this.#t.table('events');
    const moments = this.#t.table('moments');
    return this.#t.write(async () => {
      const weak = await events.query().select(['id']).where(`retention < ${sqlNumber(options.retentionBelow)} AND ${sqlQuoted('prunedAt')} IS NULL`).toArray();
      const weakIds = weak.map((r) => r.id as string);
      const predicates = [`${sqlQuoted('startedAt')} < ${sqlNumber(options.olderThan)}`];
      for (let i = 0; i < weakIds.length; i += 500) predicates.push(sqlIn('eventId', weakIds.slice(i, i + 500)));
      const predicate = predicates.map((p) => `(${p})`).join(' OR ');
      const doomed = (await moments.query().select(['thumbnail', 'eventId']).where(predicate).toArray()) as { thumbnail: string | null; eventId: string }[];
      if (doomed.length > 0) await moments.delete(predicate);
      for (let i = 0; i < weakIds.length; i += 500) {
        await events.update({ where: sqlIn('id', weakIds.slice(i, i + 500)), valuesSql: { prunedAt: sqlNumber(options.now) } });
      }
      const thumbs = [...new Set(doomed.map((d) => d.thumbnail).filter((t): t is string => typeof t === 'string' && t.length > 0))];
      const kept = new Set<string>();
      for (let i = 0; i < thumbs.length; i += 500) {
        const rows = await events.query().select(['thumbnail']).where(sqlIn('thumbnail', thumbs.slice(i, i + 500))).toArray();
        for (const r of rows) kept.add(r.thumbnail as string);
      }
      return { moments: doomed.length, events: weakIds.length, thumbnails: thumbs.filter((t) => !kept.has(t)) };
    });
  }

  /** Events whose summary is extractive, oldest first, for an LLM upgrade. */
  async eventsNeedingSummary(limit: number): Promise<StoredEvent[]> {
    return this.#reads.rows('events', `${sqlQuoted('needsSummary')} = true`, { limit, order: [{ columnName: 'startedAt', ascending: true }] });
  }

  async setSummary(id: string, summary: string, tags?: string[]): Promise<void> {
    await this.#t.write(() =>
      this.#t.table('events').update({
        where: `id = ${sqlString(id)}`,
        values: { summary, needsSummary: false, ...(tags ? { tags: tags.join(' ') } : {}) },
      }),
    );
  }
}

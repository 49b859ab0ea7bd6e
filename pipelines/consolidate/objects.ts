// What the detector saw during an event, as consolidation needs it: merging two events' labels,
// counts and tracks (pattern completion), whether two events differ in who or what is present
// (such events are never merged), and the plain-words account the extractive summary gives.
import { countChanges } from '../records/count-changes.js';
import type { EventObjects, LabelCount, TrackSpan } from '../records/event.js';

export const NO_OBJECTS: EventObjects = { labels: [], counts: {}, tracks: [] };

/** Per-label distinct tracks and most at once, from tracks and each side's own maxima. */
function countsOf(tracks: readonly TrackSpan[], maxima: readonly Record<string, LabelCount>[]): Record<string, LabelCount> {
  const out: Record<string, LabelCount> = {};
  const ids = new Map<string, Set<number>>();
  for (const t of tracks) {
    const set = ids.get(t.label) ?? new Set<number>();
    set.add(t.id);
    ids.set(t.label, set);
  }
  for (const counts of maxima) {
    for (const [label, c] of Object.entries(counts)) {
      const prev = out[label];
      out[label] = { distinct: Math.max(prev?.distinct ?? 0, c.distinct), max: Math.max(prev?.max ?? 0, c.max) };
    }
  }
  for (const [label, set] of ids) {
    const prev = out[label];
    out[label] = { distinct: Math.max(prev?.distinct ?? 0, set.size), max: Math.max(prev?.max ?? 0, 1) };
  }
  return out;
}

/** One object's stay across two consecutive events is one track: the earlier entry, the later exit. */
export function mergeTracks(a: readonly TrackSpan[], b: readonly TrackSpan[]): TrackSpan[] {
  const byId = new Map<number, TrackSpan>();
  for (const t of [...a, ...b]) {
    const seen = byId.get(t.id);
    if (!seen) {
      byId.set(t.id, { ...t });
      continue;
    }
    const first = seen.enter <= t.enter ? seen : t;
    const last = seen.leave >= t.leave ? seen : t;
    byId.set(t.id, {
      id: t.id,
      label: t.label,
      enter: first.enter,
      enteredAt: first.enteredAt,
      entered: first.entered,
      leave: last.leave,
      leftAt: last.leftAt,
      left: last.left,
      score: Math.max(seen.score, t.score),
    });
  }
  return [...byId.values()].sort((x, y) => x.enter - y.enter || x.id - y.id);
}

/** Objects of an event made of two: labels united, tracks joined by id, counts recomputed. */
export function mergeObjects(a: EventObjects, b: EventObjects): EventObjects {
  const tracks = mergeTracks(a.tracks, b.tracks);
  const counts = countsOf(tracks, [a.counts, b.counts]);
  // Distinct counts of a merged event come from its tracks when it has them: the same car
  // spanning both halves is one car, not two.
  for (const [label, c] of Object.entries(counts)) {
    const tracked = new Set(tracks.filter((t) => t.label === label).map((t) => t.id)).size;
    if (tracked > 0) c.distinct = tracked;
  }
  return { labels: [...new Set([...a.labels, ...b.labels])].sort(), counts, tracks };
}

/** Whether two events differ in what was present: a label seen in one and not the other. */
export function presenceDiffers(a: Pick<EventObjects, 'labels'>, b: Pick<EventObjects, 'labels'>): boolean {
  if (a.labels.length !== b.labels.length) return true;
  const set = new Set(a.labels);
  return b.labels.some((l) => !set.has(l));
}

/** Stream seconds as m:ss (h:mm:ss past an hour), as people read a video's clock. */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

const IRREGULAR: Record<string, string> = { person: 'people', bus: 'buses', knife: 'knives', mouse: 'mice', sheep: 'sheep', skis: 'skis', scissors: 'scissors', 'wine glass': 'wine glasses', couch: 'couches', sandwich: 'sandwiches', toothbrush: 'toothbrushes', bench: 'benches', 'hair drier': 'hair driers', glass: 'glasses' };

export function plural(label: string, n: number): string {
  if (n === 1) return label;
  if (IRREGULAR[label]) return IRREGULAR[label];
  if (/(s|x|ch|sh)$/.test(label)) return `${label}es`;
  return `${label}s`;
}

const article = (label: string) => (/^[aeiou]/.test(label) ? 'An' : 'A');

/** How many changes of one label's count a summary lists before it stops. */
const MAX_LISTED_CHANGES = 8;

/**
 * Sentences saying what was there: a single tracked object with its entry and exit ("A person
 * came into view at 0:06 and left at 0:19"), several of a label as a count ("2 cars passed" when
 * they all came and went), or, when some stayed while others came and went, how many were in
 * view and when that changed ("Up to 3 bottles were in view: 3 at first, 2 at 0:06, 3 at 0:12.").
 * `trackMemorySeconds` is the tracker's memory: a track ending and another starting this soon
 * after is one object moved, not one taken and one brought.
 */
export function describeObjects(objects: EventObjects, trackMemorySeconds = 0): string[] {
  const out: string[] = [];
  for (const label of objects.labels) {
    const tracks = objects.tracks.filter((t) => t.label === label);
    const count = objects.counts[label];
    const distinct = Math.max(count?.distinct ?? 0, new Set(tracks.map((t) => t.id)).size, tracks.length > 0 ? 1 : 0);
    const max = count?.max ?? distinct;
    if (distinct <= 1) {
      const t = tracks[0];
      const subject = `${article(label)} ${label}`;
      if (!t) out.push(`${subject} was in view.`);
      else if (t.entered && t.left) out.push(`${subject} came into view at ${clock(t.enter)} and left at ${clock(t.leave)}.`);
      else if (t.entered) out.push(`${subject} came into view at ${clock(t.enter)}.`);
      else if (t.left) out.push(`${subject} was in view until ${clock(t.leave)}.`);
      else out.push(`${subject} was in view.`);
      continue;
    }
    const passed = tracks.length > 0 && tracks.every((t) => t.entered && t.left);
    const word = plural(label, distinct);
    if (passed) {
      out.push(`${distinct} ${word} passed${max > 1 ? `, at most ${max} at once` : ''}.`);
      continue;
    }
    // Tracks counted one by one overstate things that stay while others come and go (7 bottle
    // tracks for 3 bottles, some lifted and put back): say how many were there, and when.
    const changes = countChanges([{ stream: '', tracks }], [label], trackMemorySeconds);
    const first = changes[0];
    if (first && tracks.some((t) => !t.entered)) {
      const listed = changes.slice(0, MAX_LISTED_CHANGES).map((c) => `${c.to} at ${clock(c.at)}`);
      const more = changes.length > MAX_LISTED_CHANGES ? `, and ${changes.length - MAX_LISTED_CHANGES} more changes` : '';
      out.push(`Up to ${max} ${plural(label, max)} were in view: ${first.from} at first, ${listed.join(', ')}${more}.`);
    } else out.push(`${distinct} ${word} were seen${max > 1 ? `, at most ${max} at once` : ''}.`);
  }
  return out;
}

/** One line per label for a language model: counts and each track's times. */
export function objectFacts(objects: EventObjects): string {
  if (objects.labels.length === 0) return '(none detected)';
  return objects.labels
    .map((label) => {
      const c = objects.counts[label];
      const tracks = objects.tracks.filter((t) => t.label === label).map((t) => `#${t.id} ${t.entered ? 'entered' : 'present'} ${clock(t.enter)}, ${t.left ? 'left' : 'still there'} ${clock(t.leave)}`);
      return `${label}: ${c?.distinct ?? tracks.length} distinct, at most ${c?.max ?? 1} at once${tracks.length ? ` (${tracks.join('; ')})` : ''}`;
    })
    .join('\n');
}

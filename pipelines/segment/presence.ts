// Presence of each detector label on one stream, with hysteresis: a label appears when it was
// detected on `hits` of the last `window` keyframes (one stray detection is not a visitor) and
// leaves after `leaveSeconds` without a detection (one missed frame is not a departure). Changes
// are dated where they happened, not where they were confirmed: an arrival at its first
// detection, a departure at the first keyframe it was missing from. See NOTES.md for the defaults.

import type { LabelPresence, PresenceState } from '../records/segmenter-state.js';

export type { LabelPresence, PresenceState };

export interface PresenceOptions {
  hits: number;
  window: number;
  leaveSeconds: number;
}

export interface PresenceChange {
  label: string;
  kind: 'enter' | 'leave';
  /** Stream seconds the change is dated at. */
  t: number;
}


/** Records one keyframe (the labels detected on it) and returns the changes it confirms. */
export function observePresence(state: PresenceState, t: number, seen: ReadonlySet<string>, options: PresenceOptions): PresenceChange[] {
  const changes: PresenceChange[] = [];
  for (const label of new Set([...Object.keys(state), ...seen])) {
    const p = (state[label] ??= { present: false, recent: [], lastSeen: null, missingSince: null });
    const detected = seen.has(label);
    p.recent.push([t, detected]);
    if (p.recent.length > options.window) p.recent.splice(0, p.recent.length - options.window);
    if (detected) {
      p.lastSeen = t;
      p.missingSince = null;
    } else if (p.lastSeen !== null && p.missingSince === null) {
      p.missingSince = t;
    }
    if (!p.present) {
      const hits = p.recent.filter(([, d]) => d);
      if (hits.length >= options.hits) {
        p.present = true;
        changes.push({ label, kind: 'enter', t: (hits[0] as [number, boolean])[0] });
      }
    } else if (!detected && p.lastSeen !== null && t - p.lastSeen >= options.leaveSeconds) {
      p.present = false;
      changes.push({ label, kind: 'leave', t: p.missingSince ?? t });
    }
    // A label neither present nor seen lately has nothing left to remember.
    if (!p.present && !p.recent.some(([, d]) => d)) delete state[label];
  }
  return changes.sort((a, b) => a.t - b.t);
}

/**
 * The earliest stream time a change not yet confirmed could still be dated at: an absent label's
 * first recent detection, or a present label's first missing keyframe. Null when nothing is open.
 */
export function unsettledSince(state: PresenceState): number | null {
  let earliest: number | null = null;
  for (const p of Object.values(state)) {
    let t: number | null = null;
    if (!p.present) t = p.recent.find(([, d]) => d)?.[0] ?? null;
    else t = p.missingSince;
    if (t !== null && (earliest === null || t < earliest)) earliest = t;
  }
  return earliest;
}

export function presentLabels(state: PresenceState): string[] {
  return Object.entries(state).filter(([, p]) => p.present).map(([label]) => label).sort();
}

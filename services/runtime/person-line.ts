// A person as `engram people list --json` prints it and `GET /api/people` returns it: one shape
// for both, so a script can move between the CLI and the API.
import type { Person } from '../../pipelines/repositories/people.js';

export interface PersonLine {
  id: string;
  name: string | null;
  faces: number;
  /** ISO wall-clock times. */
  firstSeen: string;
  lastSeen: string;
  /** start/end in stream seconds. */
  sightings: { eventId: string; stream: string; start: number; end: number }[];
}

export function personLine(p: Person): PersonLine {
  return { id: p.id, name: p.name, faces: p.faces, firstSeen: new Date(p.firstSeen).toISOString(), lastSeen: new Date(p.lastSeen).toISOString(), sightings: p.sightings };
}

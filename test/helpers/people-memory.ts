// People for API and UI tests, stored through the real PeopleStore (LanceDB tables and face crops
// in the blob store) without running the face models: each person gets descriptors near its own
// axis (cosine distance 1 from every other person, so clustering keeps them apart) and crops cut
// by ffmpeg from a frame of one of the people clips.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadedConfig } from '../../config/load.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { DESCRIPTOR_DIMS, PeopleStore } from '../../pipelines/repositories/people.js';
import { EPOCH, near, seeded } from './events.js';
import { SHARED_MEDIA } from './media.js';

const run = promisify(execFile);

export interface SeedPerson {
  /** A clip in ../shared/media/people (without .mkv) whose frame gives the crops. */
  clip: string;
  stream: string;
  /** Stream seconds of each face. */
  times: number[];
  /** An event id the sighting belongs to ('' when none). */
  eventId?: string;
}

/**
 * A 112x112 BMP of the top middle of a clip's frame (where the people clips show the face). The
 * clips last 1.5-3.7 s, so the n-th crop of a person comes from 0, 0.5 or 1 s whatever its face time.
 */
export async function faceCrop(clip: string, n: number): Promise<Buffer> {
  const at = (n % 3) * 0.5;
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-ss', String(at), '-i', join(SHARED_MEDIA, 'people', `${clip}.mkv`), '-frames:v', '1', '-vf', 'crop=160:160:240:0,scale=112:112', '-c:v', 'bmp', '-f', 'image2pipe', '-'], { encoding: 'buffer', maxBuffer: 1 << 24 });
  if (stdout.length === 0) throw new Error(`no frame of ${clip}.mkv at ${at} s`);
  return stdout;
}

/**
 * Stores the people (one sighting each, in order) and returns their ids in the same order. Person n
 * is near descriptor axis firstAxis + n (default 0 + n).
 */
export async function seedPeople(loaded: LoadedConfig, people: readonly SeedPerson[], options: { firstAxis?: number } = {}): Promise<string[]> {
  const blobs = new LocalBlobStore(loaded.paths.blobsDir);
  const store = await PeopleStore.open(loaded.paths.lancedbUri, blobs, loaded.config.faces);
  const rand = seeded(7);
  const ids: string[] = [];
  try {
    for (const [n, p] of people.entries()) {
      const axis = new Float32Array(DESCRIPTOR_DIMS);
      axis[(options.firstAxis ?? 0) + n] = 1;
      const writes = [];
      for (const [i, t] of p.times.entries()) {
        const path = await blobs.write(`faces/${p.stream}/${Math.round(t * 1000)}.bmp`, await faceCrop(p.clip, i));
        writes.push({ stream: p.stream, t, wall: EPOCH + n * 60_000 + t * 1000, eventId: p.eventId ?? '', score: 0.9, descriptor: near(axis, 0.05, rand), crop: path });
      }
      const id = await store.addFaces(writes);
      if (!id) throw new Error(`seeding person ${n}: no id`);
      ids.push(id);
    }
    return ids;
  } finally {
    await store.close();
  }
}

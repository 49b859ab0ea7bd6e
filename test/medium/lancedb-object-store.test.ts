// Long-term memory on S3-compatible object storage (s3rver, started by the test): LanceDB opens
// an s3:// lancedbUri with the endpoint, region, credentials and allow_http that storage.s3 gives,
// a second "host" sees what the first wrote, and several writers committing at once lose nothing
// under the Redis commit lock — on a store that, like s3rver, ignores S3's If-None-Match.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanceStorageOptions } from '../../pipelines/repositories/lance-connect.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { DESCRIPTOR_DIMS, PeopleStore, type FaceWrite } from '../../pipelines/repositories/people.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { EngramContext } from '../../services/runtime/context.js';
import { lanceAccess } from '../../services/runtime/storage.js';
import { silentLogger } from '../../services/logger.js';
import { useTestEnv } from '../helpers/env.js';
import { near, seeded } from '../helpers/events.js';
import { storedEvent } from '../helpers/garage-memory.js';
import { useTestS3 } from '../helpers/s3.js';

const env = useTestEnv();
const s3 = useTestS3();
let context: EngramContext;
const EPOCH = Date.UTC(2026, 10, 30, 8, 0, 0);

beforeAll(async () => {
  const loaded = env.loaded();
  context = await EngramContext.open(loaded, silentLogger());
});
afterAll(async () => {
  await context?.close();
});

/** A store as one process on one host opens it: its own connection, its own lock client. */
async function host(uri: string, commitLock: 'auto' | 'off'): Promise<MemoryStore> {
  const loaded = env.loaded({ storage: { ...s3.server.storage({ lancedbUri: uri }), commitLock } });
  return MemoryStore.open(uri, lanceAccess(loaded, context.redis));
}

/** The people tables as one process opens them (consolidate, the API, `engram people`): its own lock client. */
async function peopleHost(uri: string): Promise<PeopleStore> {
  const loaded = env.loaded({ storage: s3.server.storage({ lancedbUri: uri }) });
  return PeopleStore.open(uri, new LocalBlobStore(loaded.paths.blobsDir), loaded.config.faces, lanceAccess(loaded, context.redis));
}

describe('LanceDB on object storage', () => {
  it('derives storage options from storage.s3, and opens, writes and searches an s3:// memory another host then reads', async () => {
    const loaded = env.loaded({ storage: s3.server.storage({ lancedbUri: 's3://engram/memory' }) });
    expect(lanceStorageOptions(loaded.paths.lancedbUri, loaded.config.storage)).toEqual({
      region: 'us-east-1', endpoint: s3.server.endpoint, allow_http: 'true', aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER', virtual_hosted_style_request: 'false',
    });
    expect(lanceStorageOptions('/var/lib/engram/lancedb', loaded.config.storage)).toEqual({});
    const first = await host('s3://engram/memory', 'auto');
    try {
      await first.upsertEvents([
        // Vectors add a column: the next host must open that table, not recreate it (s3rver lists
        // no tables, so opening by name is what finds it).
        storedEvent(EPOCH, 'gate', 0, { summary: 'A delivery van stops at the gate', tags: ['vehicle'], vectors: { image: new Float32Array([1, 0, 0, 0]) } }),
        storedEvent(EPOCH, 'gate', 10, { summary: 'The gate closes', tags: ['motion-low'], vectors: { image: new Float32Array([0, 1, 0, 0]) } }),
      ]);
    } finally {
      await first.close();
    }
    const third = await host('s3://engram/memory', 'auto');
    try {
      const rows = await third.listEvents({ streams: ['gate'] });
      expect(rows.map((r) => r.summary).sort()).toEqual(['A delivery van stops at the gate', 'The gate closes']);
      expect((await third.tableStats()).tables.events.rows).toBe(2);
      expect((await third.spaces()).map((x) => [x.space, x.dims])).toEqual([['image', 4]]);
    } finally {
      await third.close();
    }
  });

  // Without the lock (storage.commitLock: off) the same run fails on s3rver within seconds: it
  // ignores If-None-Match, so two writers both write version N's manifest, the later replaces
  // the earlier, and a reader fails with lance-table's "manifest length does not match. Expected
  // 275461, got 1077" (the other writer's manifest) — and the commit it replaced is lost.
  it('keeps every commit of four writers writing at once under the commit lock', async () => {
    const writers = 4;
    const each = 6;
    const stores = await Promise.all(Array.from({ length: writers }, () => host('s3://engram/concurrent', 'auto')));
    try {
      await Promise.all(
        stores.map(async (store, w) => {
          // One commit per event, interleaved with recall reinforcement of the first writer's rows,
          // as consolidate and the API commit at once.
          for (let i = 0; i < each; i += 1) {
            await store.upsertEvent(storedEvent(EPOCH, `cam${w}`, i * 10, { summary: `writer ${w} event ${i}` }));
            if (i > 0) await store.reinforce([`cam0.${String((i - 1) * 10_000).padStart(10, '0')}`], EPOCH + 1000);
          }
        }),
      );
      const rows = await stores[0]!.listEvents({ limit: 1000 });
      expect(rows.length).toBe(writers * each);
      const recalled = rows.filter((r) => r.stream === 'cam0' && r.recallCount > 0);
      expect(recalled.length).toBe(each - 1);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  // Without the lock (storage.commitLock: off) the same run on s3rver fails (2 of 2 runs: 3
  // identities for 2 people): both writers read the people table before either committed, so a
  // person's first sightings make two identities, and a face count or a name can be written back
  // from a stale row. The lock is held for each whole read-modify-write, not only the commit.
  it('keeps identities whole when two processes write people at once under the commit lock', async () => {
    const uri = 's3://engram/people';
    const [a, b] = [await peopleHost(uri), await peopleHost(uri)];
    const rand = seeded(3);
    const axis = (n: number) => {
      const v = new Float32Array(DESCRIPTOR_DIMS);
      v[n] = 1;
      return v;
    };
    // A sighting of person `who` (2 faces near its own axis), as consolidate writes one: perceive
    // stored the crops first (a face whose crop is gone was forgotten and is not stored).
    const blobs = new LocalBlobStore(env.loaded().paths.blobsDir);
    const sighting = (who: number, writer: number, i: number): Promise<FaceWrite[]> =>
      Promise.all([0, 1].map(async (k) => ({ id: `w${writer}.p${who}.s${i}.${k}`, stream: `cam${writer}`, t: i * 10 + k, wall: EPOCH + i * 10_000 + k * 1000, eventId: '', score: 0.9, descriptor: near(axis(who), 0.05, rand), crop: await blobs.write(`faces/cam${writer}/p${who}-${i}-${k}.bmp`, Buffer.from('BM')) })));
    const each = 4;
    let alice = '';
    try {
      // Both writers start on empty tables: the first sighting of each person must make one identity, not two.
      await Promise.all(
        [a, b].map(async (store, w) => {
          for (let i = 0; i < each; i += 1) for (const who of [0, 1]) await store.addFaces(await sighting(who, w, i));
        }),
      );
      alice = (await a.match(axis(0)))!.id;
      // One process names a person while the other adds sightings of her: neither write is lost.
      await Promise.all([
        b.name(alice, 'Alice'),
        (async () => {
          for (let i = each; i < each + 2; i += 1) await a.addFaces(await sighting(0, 0, i));
        })(),
      ]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const reader = await peopleHost(uri);
    try {
      const people = await reader.list();
      expect(people.length).toBe(2);
      const counts = await reader.counts();
      expect(counts).toEqual({ faces: 2 * 2 * (2 * each) + 2 * 2, people: 2 });
      // Each identity's count is the faces it holds, and one of them carries the name.
      for (const p of people) expect((await reader.faces(p.id)).length).toBe(p.faces);
      expect(people.find((p) => p.id === alice)).toMatchObject({ name: 'Alice', faces: 2 * 2 * each + 4 });
      expect(people.find((p) => p.id !== alice)).toMatchObject({ name: null, faces: 2 * 2 * each });
    } finally {
      await reader.close();
    }
  });
});

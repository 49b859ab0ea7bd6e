// The identity memory: LanceDB tables `faces` (one row per kept face: descriptor, where and when,
// its crop's blob path) and `people` (one row per identity: name, centroid, counts, first and last
// seen). Faces are assigned online to the nearest identity (pipelines/faces/identities.ts); name,
// merge, forget and the re-clustering pass rewrite these two tables and the crops in the blob store.
// Every write is a read-modify-write of an identity (its centroid and counts): on object storage
// each runs whole under the Redis commit lock (lance-commit-lock.ts), so consolidate, the API and
// `engram people` on any host write identities one at a time, each from the latest version.
import type * as lancedb from '@lancedb/lancedb';
import { randomUUID } from 'node:crypto';
import { EngramError } from '../../config/errors.js';
import { mergePlan, meanDescriptor, nearestIdentity, updateCentroid, type IdentityCentroid } from '../records/identities.js';
import type { BlobStore } from './blob-store.js';
import { connectLance, openOrCreateTable } from './lance-connect.js';
import type { CommitLock, LanceAccess } from './memory-tables.js';
import { arrow, f, vectorField } from './memory-schema.js';
import { sqlString } from './sql.js';
import { toF32 } from '../vectors.js';

export const DESCRIPTOR_DIMS = 1024;

export interface FaceWrite {
  /**
   * Deterministic id (from the event and keyframe) makes a retried write idempotent: faces already
   * stored are not added or counted again. Random when absent.
   */
  id?: string;
  stream: string;
  /** Stream seconds of the keyframe. */
  t: number;
  /** Wall-clock epoch ms of the keyframe. */
  wall: number;
  /** The event the keyframe belongs to, '' when not known yet. */
  eventId: string;
  score: number;
  descriptor: Float32Array;
  /** Blob path of the aligned crop. */
  crop: string;
}

export interface Sighting {
  eventId: string;
  stream: string;
  /** Stream seconds. */
  start: number;
  end: number;
}

export interface Person {
  id: string;
  name: string | null;
  faces: number;
  /** Epoch ms. */
  firstSeen: number;
  lastSeen: number;
  sightings: Sighting[];
  /** Blob path of the person's best face crop. */
  crop: string | null;
}

/** One kept face of a person, as the people view lists its crops. */
export interface PersonFace {
  id: string;
  stream: string;
  /** Stream seconds of the keyframe. */
  t: number;
  /** Wall-clock epoch ms. */
  wall: number;
  eventId: string;
  score: number;
  /** Blob path of the aligned crop. */
  crop: string;
}

export interface PeopleOptions {
  /** A face nearer than this (cosine distance) to an identity's centroid joins it. */
  assignDistance: number;
  /** Identities whose centroids are nearer than this are merged by recluster(). */
  mergeDistance: number;
  /** Faces of one identity on one stream further apart than this (seconds) are separate sightings. */
  sightingGapSeconds: number;
}

export class UnknownPersonError extends EngramError {
  override readonly name = 'UnknownPersonError';
}

interface PersonRow {
  id: string;
  name: string;
  centroid: Float32Array;
  faces: number;
  firstSeen: number;
  lastSeen: number;
}

export class PeopleStore {
  readonly #faces: lancedb.Table;
  readonly #people: lancedb.Table;
  readonly #blobs: BlobStore;
  readonly #options: PeopleOptions;
  readonly #commitLock: CommitLock | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #cache: Map<string, PersonRow> | undefined;
  /** The people table's version the cache was read at: another process's write makes it stale. */
  #cacheVersion = -1;

  private constructor(faces: lancedb.Table, people: lancedb.Table, blobs: BlobStore, options: PeopleOptions, commitLock: CommitLock | undefined) {
    this.#commitLock = commitLock;
    this.#faces = faces;
    this.#people = people;
    this.#blobs = blobs;
    this.#options = options;
  }

  /**
   * `access`: LanceDB's storage options for an object-store URI and the commit lock its writes
   * take (services/runtime/storage.ts lanceAccess); a reader passes no lock.
   */
  static async open(uri: string, blobs: BlobStore, options: PeopleOptions, access: Pick<LanceAccess, 'storageOptions' | 'commitLock'> = {}): Promise<PeopleStore> {
    const db = await connectLance(uri, 0, access.storageOptions ?? {});
    const names = new Set(await db.tableNames());
    const lock = access.commitLock;
    // Creating a table is a commit too: two hosts starting on an empty bucket must not both write its first version.
    const openOrCreate = (name: string, fields: import('apache-arrow').Field[]) =>
      names.has(name) || !lock ? openOrCreateTable(db, names, name, fields) : lock.run(async () => openOrCreateTable(db, new Set(await db.tableNames()), name, fields));
    const faces = await openOrCreate('faces', [
      f('id', new arrow.Utf8()), f('person', new arrow.Utf8()), f('stream', new arrow.Utf8()), f('t', new arrow.Float64()),
      f('wall', new arrow.Float64()), f('eventId', new arrow.Utf8()), f('score', new arrow.Float64()), f('crop', new arrow.Utf8()),
      vectorField('descriptor', DESCRIPTOR_DIMS),
    ]);
    const people = await openOrCreate('people', [
      f('id', new arrow.Utf8()), f('name', new arrow.Utf8()), f('faces', new arrow.Int32()), f('firstSeen', new arrow.Float64()),
      f('lastSeen', new arrow.Float64()), vectorField('centroid', DESCRIPTOR_DIMS),
    ]);
    return new PeopleStore(faces, people, blobs, options, lock);
  }

  /** Serialises this process's writes (and the cache that goes with them), each under the commit lock when there is one. */
  #write<T>(work: () => Promise<T>): Promise<T> {
    const lock = this.#commitLock;
    const locked = lock ? () => lock.run(work) : work;
    const next = this.#chain.then(locked, locked);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #rows(): Promise<Map<string, PersonRow>> {
    const version = await this.#people.version();
    if (this.#cache && version === this.#cacheVersion) return this.#cache;
    this.#cacheVersion = version;
    const rows = await this.#people.query().toArray();
    this.#cache = new Map(rows.map((r) => [r.id as string, { id: r.id as string, name: r.name as string, centroid: toF32(r.centroid as Parameters<typeof toF32>[0]), faces: Number(r.faces), firstSeen: Number(r.firstSeen), lastSeen: Number(r.lastSeen) }]));
    return this.#cache;
  }

  async #putPerson(row: PersonRow): Promise<void> {
    const rows = await this.#rows();
    await this.#people.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute([{ ...row, centroid: Array.from(row.centroid) }]);
    rows.set(row.id, row);
    // Our own write: the cache already holds it.
    this.#cacheVersion = await this.#people.version();
  }

  /** Identities without their faces (cheap): id, name, face count, first and last seen. */
  async identities(): Promise<Omit<Person, 'sightings' | 'crop'>[]> {
    return [...(await this.#rows()).values()].map((r) => ({ id: r.id, name: r.name === '' ? null : r.name, faces: r.faces, firstSeen: r.firstSeen, lastSeen: r.lastSeen }));
  }

  /** The identity a descriptor would join (without storing anything), and its distance. */
  async match(descriptor: Float32Array): Promise<{ id: string; name: string | null; distance: number } | undefined> {
    const rows = [...(await this.#rows()).values()];
    const best = nearestIdentity(descriptor, rows);
    if (!best || best.distance >= this.#options.assignDistance) return undefined;
    const name = (await this.#rows()).get(best.id)?.name ?? '';
    return { id: best.id, name: name === '' ? null : name, distance: best.distance };
  }

  /**
   * Stores the faces of one sighting (one stream, close in time): assigned together by their mean
   * descriptor, which is steadier than any single frame, or to the identity already holding one of
   * their crops (a face carried forward by gating). Faces whose crop is gone (forgotten) are not
   * stored. Returns the identity id, undefined when nothing was stored.
   */
  addFaces(faces: FaceWrite[]): Promise<string | undefined> {
    if (faces.length === 0) return Promise.resolve(undefined);
    return this.#write(async () => {
      const ids = faces.map((x) => x.id).filter((id): id is string => id !== undefined);
      if (ids.length > 0) {
        const stored = await this.#faces.query().where(`id IN (${ids.map(sqlString).join(', ')})`).select(['person']).limit(1).toArray();
        // A retry of a sighting already stored (the event row was not written yet when it failed).
        if (stored.length > 0) return stored[0]?.person as string;
      }
      const kept = await this.#withCrops(faces);
      if (kept.length === 0) return undefined;
      const mean = meanDescriptor(kept.map((x) => x.descriptor));
      const rows = await this.#rows();
      const walls = kept.map((x) => x.wall);
      let person: PersonRow;
      const owner = await this.#cropOwner(kept, rows);
      const best = owner === undefined ? nearestIdentity(mean, [...rows.values()]) : undefined;
      const existing = owner !== undefined ? rows.get(owner) : best && best.distance < this.#options.assignDistance ? rows.get(best.id) : undefined;
      if (existing) {
        person = { ...existing, centroid: updateCentroid(existing, mean, kept.length), faces: existing.faces + kept.length, firstSeen: Math.min(existing.firstSeen, ...walls), lastSeen: Math.max(existing.lastSeen, ...walls) };
      } else {
        person = { id: randomUUID(), name: '', centroid: mean, faces: kept.length, firstSeen: Math.min(...walls), lastSeen: Math.max(...walls) };
      }
      await this.#faces.add(kept.map((x) => ({ id: x.id ?? randomUUID(), person: person.id, stream: x.stream, t: x.t, wall: x.wall, eventId: x.eventId, score: x.score, crop: x.crop, descriptor: Array.from(x.descriptor) })));
      await this.#putPerson(person);
      return person.id;
    });
  }

  /**
   * The faces whose crop is still in the blob store. Perceive's face gating carries a run's faces
   * (the same crop and descriptor) onto later keyframes for up to its refresh interval, and they
   * reach this store only when their event is consolidated: a face whose crop is gone was
   * forgotten meanwhile (forget deletes every crop of the identity), and storing it would bring the
   * forgotten person back as a new identity. The crop's existence, not a list of forgotten ids, is
   * the test because carried faces hold no identity (that is decided here), the blob store is shared
   * by every host, and it never expires; forget and consolidation both hold the memory write lock,
   * so a forget cannot fall between this check and the write.
   */
  async #withCrops(faces: FaceWrite[]): Promise<FaceWrite[]> {
    const crops = distinctCrops(faces);
    const present = new Set<string>();
    await Promise.all(crops.map(async (c) => void ((await this.#blobs.stat(c)) && present.add(c))));
    return faces.filter((x) => x.crop === '' || present.has(x.crop));
  }

  /**
   * The identity that already holds one of these crops, if any: a face carried forward by gating
   * into a later event is a face already recognised, and it stays with whoever holds it now (after
   * a merge, the kept identity), however far that identity's centroid has moved.
   */
  async #cropOwner(faces: FaceWrite[], rows: Map<string, PersonRow>): Promise<string | undefined> {
    const crops = distinctCrops(faces);
    if (crops.length === 0) return undefined;
    const held = await this.#faces.query().where(`crop IN (${crops.map(sqlString).join(', ')})`).select(['person']).toArray();
    const votes = new Map<string, number>();
    for (const r of held) votes.set(r.person as string, (votes.get(r.person as string) ?? 0) + 1);
    return [...votes].filter(([id]) => rows.has(id)).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  }

  /** Every identity with its sightings, most recently seen first. */
  async list(): Promise<Person[]> {
    this.#cache = undefined; // another process may have written
    const rows = await this.#rows();
    const faces = await this.#faces.query().select(['person', 'stream', 't', 'eventId', 'score', 'crop']).toArray();
    const byPerson = new Map<string, { stream: string; t: number; eventId: string; score: number; crop: string }[]>();
    for (const x of faces) {
      const list = byPerson.get(x.person as string) ?? [];
      list.push({ stream: x.stream as string, t: Number(x.t), eventId: x.eventId as string, score: Number(x.score), crop: x.crop as string });
      byPerson.set(x.person as string, list);
    }
    const people = [...rows.values()].map((r): Person => {
      const list = (byPerson.get(r.id) ?? []).sort((a, b) => a.stream.localeCompare(b.stream) || a.t - b.t);
      const sightings: Sighting[] = [];
      for (const x of list) {
        const last = sightings[sightings.length - 1];
        const sameEvent = last && last.stream === x.stream && (x.eventId !== '' ? last.eventId === x.eventId : x.t - last.end <= this.#options.sightingGapSeconds);
        if (last && sameEvent) last.end = Math.max(last.end, x.t);
        else sightings.push({ eventId: x.eventId, stream: x.stream, start: x.t, end: x.t });
      }
      const best = [...list].sort((a, b) => b.score - a.score)[0];
      return { id: r.id, name: r.name === '' ? null : r.name, faces: list.length, firstSeen: r.firstSeen, lastSeen: r.lastSeen, sightings, crop: best?.crop ?? null };
    });
    return people.sort((a, b) => b.lastSeen - a.lastSeen);
  }

  /** The kept faces of one person, best score first (for a view of its crops); throws UnknownPersonError. */
  async faces(id: string): Promise<PersonFace[]> {
    await this.#require(id);
    const rows = await this.#faces.query().where(`person = ${sqlString(id)}`).select(['id', 'stream', 't', 'wall', 'eventId', 'score', 'crop']).toArray();
    return rows
      .map((x) => ({ id: x.id as string, stream: x.stream as string, t: Number(x.t), wall: Number(x.wall), eventId: x.eventId as string, score: Number(x.score), crop: x.crop as string }))
      .sort((a, b) => b.score - a.score || a.wall - b.wall);
  }

  async #require(id: string): Promise<PersonRow> {
    this.#cache = undefined;
    const row = (await this.#rows()).get(id);
    if (!row) throw new UnknownPersonError(`no person with id "${id}" (engram people list shows the ids)`);
    return row;
  }

  name(id: string, name: string): Promise<void> {
    const trimmed = name.trim();
    if (trimmed === '') return Promise.reject(new EngramError('a person\'s name cannot be empty'));
    return this.#write(async () => this.#putPerson({ ...(await this.#require(id)), name: trimmed }));
  }

  /** Moves every face of `absorbed` into `kept`; the absorbed identity is gone, its name kept if `kept` has none. */
  merge(kept: string, absorbed: string): Promise<void> {
    if (kept === absorbed) return Promise.reject(new EngramError('cannot merge a person with itself'));
    return this.#write(async () => {
      const a = await this.#require(kept);
      const b = await this.#require(absorbed);
      await this.#faces.update({ where: `person = ${sqlString(absorbed)}`, values: { person: kept } });
      await this.#putPerson({
        ...a,
        name: a.name !== '' ? a.name : b.name,
        centroid: updateCentroid(a, b.centroid, b.faces),
        faces: a.faces + b.faces,
        firstSeen: Math.min(a.firstSeen, b.firstSeen),
        lastSeen: Math.max(a.lastSeen, b.lastSeen),
      });
      await this.#people.delete(`id = ${sqlString(absorbed)}`);
      this.#cache = undefined;
    });
  }

  /** Deletes the identity, every descriptor of it and every crop of it. */
  forget(id: string): Promise<{ faces: number; crops: number }> {
    return this.#write(async () => {
      await this.#require(id);
      const faces = await this.#faces.query().where(`person = ${sqlString(id)}`).select(['crop']).toArray();
      let crops = 0;
      for (const x of faces) if (x.crop && (await this.#blobs.delete(x.crop as string))) crops += 1;
      await this.#faces.delete(`person = ${sqlString(id)}`);
      await this.#people.delete(`id = ${sqlString(id)}`);
      // Deleted rows stay in older table versions until cleaned up; forgetting must not leave them there.
      await this.#faces.optimize({ cleanupOlderThan: new Date(), deleteUnverified: true });
      await this.#people.optimize({ cleanupOlderThan: new Date(), deleteUnverified: true });
      this.#cache = undefined;
      return { faces: faces.length, crops };
    });
  }

  /** Pairs [kept, absorbed] the re-clustering pass would merge (centroids closer than mergeDistance), closest first. */
  async mergePlan(): Promise<[string, string][]> {
    const identities: IdentityCentroid[] = [...(await this.#rows()).values()];
    return mergePlan(identities, this.#options.mergeDistance);
  }

  /**
   * The re-clustering pass over these tables alone: merges identities whose centroids came closer
   * than mergeDistance. Consolidation runs pipelines/faces/identity-upkeep.ts instead, which also
   * moves the events' identities.
   */
  async recluster(): Promise<[string, string][]> {
    const plan = await this.mergePlan();
    for (const [kept, absorbed] of plan) await this.merge(kept, absorbed);
    return plan;
  }

  async close(): Promise<void> {
    await this.#chain;
    this.#faces.close();
    this.#people.close();
  }

  /** Raw counts, for tests and status: rows in each table. */
  async counts(): Promise<{ faces: number; people: number }> {
    return { faces: await this.#faces.countRows(), people: await this.#people.countRows() };
  }
}

/** The crop paths of these faces, once each (a face without a stored crop has ''). */
function distinctCrops(faces: FaceWrite[]): string[] {
  return [...new Set(faces.map((x) => x.crop).filter((c) => c !== ''))];
}

// Faces and identities on real footage: the nine people clips (five people, ATTRIBUTION.md) go
// through face detection, the quality gate, alignment and descriptors into a real LanceDB people
// memory and blob store, one sighting per clip. Three keyframes a clip (1 fps) keep it short.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, packageRoot } from '../../config/load.js';
import { ConfigSchema } from '../../config/schema.js';
import { ModelRepository } from '../../models/runtime/model-repository.js';
import { cosineDistance, meanDescriptor } from '../../pipelines/records/identities.js';
import { perceiveFaces, type PerceivedFace } from '../../pipelines/faces/perceive-faces.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { PeopleStore } from '../../pipelines/repositories/people.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/env.js';
import { SHARED_MEDIA } from '../helpers/media.js';
import { CLIPS, PERSON, pairwiseF1 } from '../helpers/people-truth.js';

const run = promisify(execFile);
const config = ConfigSchema.parse({});
const WALL = Date.UTC(2026, 10, 28, 9, 0, 0);

async function keyframes(file: string): Promise<{ rgb: Uint8Array; width: number; height: number }[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', file, '-vf', 'fps=1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], { encoding: 'buffer', maxBuffer: 1 << 28 });
  const per = 640 * 480 * 3;
  const out = [];
  for (let o = 0; o + per <= stdout.length; o += per) out.push({ rgb: new Uint8Array(stdout.buffer, stdout.byteOffset + o, per), width: 640, height: 480 });
  return out;
}

let models: ModelRepository;
let dir: string;
let blobs: LocalBlobStore;
let people: PeopleStore;
let lancedbUri: string;
let blobsDir: string;
const cli = (args: string[]) => runCli(['people', ...args], { env: { ...process.env, ENGRAM_DATA_DIR: dir } });
const faces = new Map<string, PerceivedFace[]>();
const assigned: Record<string, string> = {};

beforeAll(async () => {
  models = await ModelRepository.open({ config, paths: { modelsDir: join(packageRoot(), 'data/models') }, log: { info() {}, warn() {} } });
  if (models.faceDescriptorSize() === undefined) throw new Error('faceres/blazeface are not installed in data/models: run `npm run setup`');
  dir = makeTempDir('engram-faces-');
  // The same data directory the CLI resolves, so `engram people` sees what this test stored.
  const { paths } = loadConfig({ env: { ENGRAM_DATA_DIR: dir } });
  lancedbUri = paths.lancedbUri;
  blobsDir = paths.blobsDir;
  blobs = new LocalBlobStore(blobsDir);
  people = await PeopleStore.open(lancedbUri, blobs, config.faces);
  for (const [n, clip] of CLIPS.entries()) {
    const frames = await keyframes(join(SHARED_MEDIA, 'people', `${clip}.mkv`));
    const found = await perceiveFaces(frames, config.faces, models);
    faces.set(clip, found);
    const writes = [];
    for (const face of found) {
      const crop = await blobs.write(`faces/${clip}/${face.frame}.bmp`, face.crop);
      writes.push({ stream: clip, t: face.frame, wall: WALL + n * 60_000 + face.frame * 1000, eventId: '', score: face.score, descriptor: face.descriptor, crop });
    }
    const id = await people.addFaces(writes);
    if (id) assigned[clip] = id;
  }
}, 120_000);

afterAll(async () => {
  await models?.close();
  await people?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('people clips: five people in nine clips', () => {
  it('finds one aligned, gated face on every keyframe', () => {
    for (const clip of CLIPS) {
      const list = faces.get(clip)!;
      // About three keyframes a clip at 1 fps; the gate may drop one (a hand across the face while signing).
      expect(list.length, clip).toBeGreaterThanOrEqual(2);
      expect(new Set(list.map((x) => x.frame)).size, `${clip}: one face per keyframe`).toBe(list.length);
      for (const face of list) {
        expect(face.score).toBeGreaterThanOrEqual(config.faces.minScore);
        // The face sits in the upper middle of the frame, a head's width (60-110 px) across.
        expect(face.box[2] - face.box[0]).toBeGreaterThan(50);
        expect(face.box[2] - face.box[0]).toBeLessThan(120);
        expect((face.box[0] + face.box[2]) / 2).toBeGreaterThan(220);
        expect((face.box[0] + face.box[2]) / 2).toBeLessThan(420);
        expect(face.crop.subarray(0, 2).toString('ascii')).toBe('BM');
      }
    }
  });

  it('reports the calibration: clip-mean distances within one person vs between people', () => {
    const means = new Map(CLIPS.map((c) => [c, meanDescriptor(faces.get(c)!.map((x) => x.descriptor))]));
    const same: number[] = [];
    const different: number[] = [];
    for (let a = 0; a < CLIPS.length; a += 1) {
      for (let b = a + 1; b < CLIPS.length; b += 1) {
        const d = cosineDistance(means.get(CLIPS[a]!)!, means.get(CLIPS[b]!)!);
        (PERSON[CLIPS[a]!] === PERSON[CLIPS[b]!] ? same : different).push(Math.round(d * 1000) / 1000);
      }
    }
    console.log(JSON.stringify({ facesPerClip: Object.fromEntries(CLIPS.map((c) => [c, faces.get(c)!.map((x) => x.score)])), calibration: { samePerson: same.sort(), differentPeople: { min: Math.min(...different), max: Math.max(...different), n: different.length }, assignDistance: config.faces.assignDistance } }));
    expect(Math.max(...same)).toBeLessThan(config.faces.assignDistance);
    expect(Math.min(...different)).toBeGreaterThan(config.faces.assignDistance);
  });

  it('groups the nine clips into five identities as ATTRIBUTION.md says (pairwise F1 >= 0.9)', async () => {
    const list = await people.list();
    expect(list).toHaveLength(5);
    const f1 = pairwiseF1(assigned);
    console.log(JSON.stringify({ identities: list.length, pairwiseF1: f1 }));
    expect(f1).toBeGreaterThanOrEqual(0.9);
    const eat = list.find((p) => p.id === assigned.eat)!;
    const of = (clip: string) => faces.get(clip)!;
    expect(eat.faces).toBe(of('eat').length + of('night').length);
    expect(eat.sightings.map((s) => s.stream).sort()).toEqual(['eat', 'night']);
    const eatSighting = eat.sightings.find((s) => s.stream === 'eat')!;
    expect(eatSighting).toMatchObject({ start: of('eat')[0]!.frame, end: of('eat').at(-1)!.frame });
    // A new face of a known person matches without being stored.
    const match = await people.match(faces.get('hungry')![0]!.descriptor);
    expect(match?.id).toBe(assigned.hungry);
    expect(await people.recluster()).toEqual([]);
  });

  it('engram people: list, name, merge and forget; forget leaves no descriptor and no crop', async () => {
    await people.close();
    const listed = await cli(['list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const before = JSON.parse(listed.stdout) as { id: string; name: string | null; faces: number; firstSeen: string; lastSeen: string; sightings: { eventId: string; stream: string; start: number; end: number }[] }[];
    expect(before).toHaveLength(5);
    expect(Object.keys(before[0]!).sort()).toEqual(['faces', 'firstSeen', 'id', 'lastSeen', 'name', 'sightings']);

    expect((await cli(['name', assigned.book!, 'Alice'])).code).toBe(0);
    expect((await cli(['merge', assigned.book!, assigned.hungry!])).code).toBe(0);
    let after = JSON.parse((await cli(['list', '--json'])).stdout) as typeof before;
    expect(after).toHaveLength(4);
    const alice = after.find((p) => p.name === 'Alice')!;
    expect(alice.sightings.map((x) => x.stream).sort()).toEqual(['book', 'hungry', 'learn']);
    const text = await cli(['list']);
    expect(text.stdout).toContain('Alice');
    const unknown = await cli(['name', 'no-such-id', 'Bob']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/no person with id "no-such-id"/);

    const hers = ['book', 'learn', 'hungry'].reduce((n, c) => n + faces.get(c)!.length, 0);
    const forgot = await cli(['forget', alice.id]);
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(forgot.stdout).toContain(`${hers} face descriptors and ${hers} crops deleted`);
    after = JSON.parse((await cli(['list', '--json'])).stdout) as typeof before;
    expect(after.map((p) => p.id)).not.toContain(alice.id);
    expect(after.map((p) => p.name)).not.toContain('Alice');
    for (const clip of ['book', 'learn', 'hungry']) expect(existsSync(join(blobsDir, 'faces', clip)) ? readdirSync(join(blobsDir, 'faces', clip)) : []).toEqual([]);
    // Nothing of her is left in the tables: a fresh store counts only the others' rows and cannot match her face.
    people = await PeopleStore.open(lancedbUri, blobs, config.faces);
    const total = CLIPS.reduce((n, c) => n + faces.get(c)!.length, 0);
    expect(await people.counts()).toEqual({ faces: total - hers, people: 3 });
    expect(await people.match(faces.get('book')![0]!.descriptor)).toBeUndefined();
    expect(await people.match(faces.get('eat')![0]!.descriptor)).toBeDefined();
  });
});

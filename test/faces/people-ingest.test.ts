// Faces through the whole pipeline on real footage: the nine people clips (five people,
// ../shared/media/ATTRIBUTION.md) ingested as nine streams by the real roles (ingest -> perceive
// -> segment -> consolidate, one process, real Redis, LanceDB and ffmpeg), with blazeface and
// faceres installed and nothing else vision-wise (faces run on every keyframe, without the object
// detector). Then, as a user: `engram people` and `engram events --person` through the CLI, and
// questions whose answers change when a person is named, merged and forgotten.
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { silentLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { ingestAndWait } from '../../services/cli/ingest.js';
import { execFileSync } from 'node:child_process';
import { formatClock, systemTimeZone } from '../../pipelines/reason/clock.js';
import { PeopleStore } from '../../pipelines/repositories/people.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { ConfigSchema } from '../../config/schema.js';
import { queryCli, runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { SHARED_MEDIA } from '../helpers/media.js';
import { CLIPS, pairwiseF1 } from '../helpers/people-truth.js';

const env = useTestEnv();
const PEOPLE = join(SHARED_MEDIA, 'people');

interface PersonLine { id: string; name: string | null; faces: number; firstSeen: string; lastSeen: string; sightings: { eventId: string; stream: string; start: number; end: number }[] }
interface EventLine { id: string; stream: string; people: string[]; startedAt: string }

let context: EngramContext | undefined;
const cli = async (args: string[]) => {
  const r = await runCli(args, { env: env.childEnv(), timeoutMs: 120_000 });
  expect(r.code, `engram ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const people = async () => JSON.parse(await cli(['people', 'list', '--json'])) as PersonLine[];
const events = async (...args: string[]) => JSON.parse(await cli(['events', '--json', ...args])) as EventLine[];
const ask = (...args: string[]) => queryCli(env.childEnv(), args);
/** Identity id per stream, as engram people list shows it now. */
const identityOf = async () => Object.fromEntries((await people()).flatMap((p) => p.sightings.map((s) => [s.stream, p.id]))) as Record<string, string>;
/** Face crop files under the blob store's faces/ folder for one stream. */
function crops(stream: string): string[] {
  const dir = join(env.dataDir, 'blobs', 'faces', stream);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.bmp'));
}

beforeAll(async () => {
  for (const model of ['blazeface', 'faceres']) {
    const dir = join(packageRoot(), 'data/models', model);
    if (!existsSync(join(dir, 'model.onnx'))) throw new Error(`${dir} is missing: run \`npm run setup\`, which converts it from @vladmandic/human`);
    cpSync(dir, join(env.dataDir, 'models', model), { recursive: true });
  }
  // A long probe deadline: on a loaded shared machine ffprobe of a local file has taken over 10 s.
  context = await EngramContext.open(env.loaded({ ingest: { fileRoots: [PEOPLE], probeTimeoutMs: 60_000 } }), silentLogger());
  const started = Date.now();
  // The first ingest starts the roles in this process; the other eight streams then run at once.
  const [first, ...rest] = CLIPS;
  const ingest = async (clip: string) => {
    const { report } = await ingestAndWait(context!, { name: clip, source: join(PEOPLE, `${clip}.mkv`) });
    expect(report.state, `${clip}: ${report.error ?? ''}`).toBe('done');
  };
  await ingest(first!);
  await Promise.all(rest.map(ingest));
  console.log(JSON.stringify({ ingestedStreams: CLIPS.length, seconds: (Date.now() - started) / 1000 }));
}, 300_000);

afterAll(async () => {
  await context?.close();
});

describe('nine people clips through the pipeline', () => {
  it('gives five identities grouped as ATTRIBUTION.md says (pairwise F1 >= 0.9), each on the events of its clips', async () => {
    const listed = await people();
    const byStream: Record<string, string | undefined> = {};
    for (const p of listed) for (const s of p.sightings) byStream[s.stream] = p.id;
    const f1 = pairwiseF1(byStream);
    console.log(JSON.stringify({ identities: listed.length, pairwiseF1: f1, faces: listed.map((p) => p.faces), streams: listed.map((p) => p.sightings.map((s) => s.stream)) }));
    expect(listed).toHaveLength(5);
    expect(f1).toBeGreaterThanOrEqual(0.9);
    const all = await events();
    expect([...new Set(all.map((e) => e.stream))].sort()).toEqual([...CLIPS].sort());
    // A clip may be cut into more than one event; each carries its clip's person, or no one where no face was kept.
    for (const e of all) for (const id of e.people) expect(id, e.stream).toBe(byStream[e.stream]);
    for (const clip of CLIPS) expect(all.some((e) => e.stream === clip && e.people.includes(byStream[clip]!)), clip).toBe(true);
    // Every sighting cites a stored event of its stream.
    for (const p of listed) for (const s of p.sightings) expect(all.filter((e) => e.stream === s.stream).map((e) => e.id)).toContain(s.eventId);
    const book = byStream.book!;
    expect([...new Set((await events('--person', book)).map((e) => e.stream))].sort()).toEqual(['book', 'learn']);
  });

  it('questions: named, who was there, how many different people, by face photo; naming, merging and forgetting change the answers', async () => {
    const id = await identityOf();
    const all = await events();
    const eventOf = (stream: string) => all.find((e) => e.stream === stream)!;
    const alice = id.book!;
    await cli(['people', 'name', alice, 'Alice']);

    const hers = (await events('--person', alice)).map((e) => e.id);
    let a = await ask('when did Alice come?');
    expect(a.answer).toMatch(new RegExp(`^Alice was seen ${hers.length} times: `));
    expect(a.evidence.map((e) => e.eventId).sort()).toEqual(hers.slice(0, 5).sort());

    const at = formatClock(Date.parse(eventOf('book').startedAt), systemTimeZone());
    a = await ask(`who was in the room at ${at}?`);
    expect(a.answer).toMatch(/Alice/);
    expect(a.answer).toContain(`an unnamed person (id ${id.eat})`);
    expect(a.evidence.length).toBeGreaterThan(0);

    a = await ask('how many different people came today?');
    expect(a.answer).toMatch(/^5 different people were seen/);

    // A photo of her face (a frame of one of her clips) finds her events.
    const photo = join(env.dataDir, 'photo.jpg');
    execFileSync('ffmpeg', ['-v', 'error', '-ss', '1', '-i', join(PEOPLE, 'learn.mkv'), '-frames:v', '1', '-y', photo]);
    a = await ask('when was this person here?', '--face', photo);
    expect(a.answer).toMatch(new RegExp(`^This person \\(Alice\\) was seen ${hers.length} times`));

    // The user says hungry's man is Alice too: the count drops, her events grow.
    await cli(['people', 'merge', alice, id.hungry!]);
    const merged = await events('--person', alice);
    expect([...new Set(merged.map((e) => e.stream))].sort()).toEqual(['book', 'hungry', 'learn']);
    expect((await ask('how many different people came today?')).answer).toMatch(/^4 different people were seen/);
    expect((await ask('when did Alice come?')).answer).toMatch(new RegExp(`^Alice was seen ${merged.length} times`));

    // Forget her: no event names her, no descriptor or crop of her remains, questions no longer find her.
    const before = crops('book').length + crops('learn').length + crops('hungry').length;
    expect(before).toBeGreaterThan(0);
    const forgot = await cli(['people', 'forget', alice]);
    expect(forgot).toContain(`removed from ${merged.length} events`);
    expect(crops('book').concat(crops('learn'), crops('hungry'))).toEqual([]);
    expect((await events()).filter((e) => e.people.includes(alice))).toEqual([]);
    expect((await people()).map((p) => p.id)).not.toContain(alice);
    expect((await ask('how many different people came today?')).answer).toMatch(/^3 different people were seen/);
    a = await ask('when was this person here?', '--face', photo);
    expect(a.answer).toMatch(/^No one in memory has this face/);
    expect(a.evidence).toEqual([]);
    const store = await PeopleStore.open(env.loaded().paths.lancedbUri, new LocalBlobStore(join(env.dataDir, 'blobs')), ConfigSchema.parse({}).faces);
    try {
      const left = await store.counts();
      expect(left.people).toBe(3);
      expect(left.faces).toBe((await people()).reduce((n, p) => n + p.faces, 0));
    } finally {
      await store.close();
    }
  }, 300_000);
});

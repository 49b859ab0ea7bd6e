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
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { SHARED_MEDIA } from '../helpers/media.js';

const env = useTestEnv();
const PEOPLE = join(SHARED_MEDIA, 'people');
/** ATTRIBUTION.md: who is in which clip. */
const PERSON: Record<string, string> = { again: 'misfits', brother: 'misfits', bird: 'grey', milk: 'grey', book: 'yellow', learn: 'yellow', eat: 'black', night: 'black', hungry: 'glasses' };
const CLIPS = Object.keys(PERSON);

interface PersonLine { id: string; name: string | null; faces: number; firstSeen: string; lastSeen: string; sightings: { eventId: string; stream: string; start: number; end: number }[] }
interface EventLine { id: string; stream: string; people: string[] }

let context: EngramContext | undefined;
const cli = async (args: string[]) => {
  const r = await runCli(args, { env: env.childEnv(), timeoutMs: 120_000 });
  expect(r.code, `engram ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const people = async () => JSON.parse(await cli(['people', 'list', '--json'])) as PersonLine[];
const events = async (...args: string[]) => JSON.parse(await cli(['events', '--json', ...args])) as EventLine[];

/** Pairwise F1 over clip pairs: same identity given vs same person in truth. */
function pairwiseF1(assigned: Record<string, string | undefined>): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let a = 0; a < CLIPS.length; a += 1) {
    for (let b = a + 1; b < CLIPS.length; b += 1) {
      const truth = PERSON[CLIPS[a]!] === PERSON[CLIPS[b]!];
      const given = assigned[CLIPS[a]!] !== undefined && assigned[CLIPS[a]!] === assigned[CLIPS[b]!];
      if (truth && given) tp += 1;
      else if (given) fp += 1;
      else if (truth) fn += 1;
    }
  }
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

beforeAll(async () => {
  for (const model of ['blazeface', 'faceres']) {
    const dir = join(packageRoot(), 'data/models', model);
    if (!existsSync(join(dir, 'model.onnx'))) throw new Error(`${dir} is missing: run \`npm run setup\`, which converts it from @vladmandic/human`);
    cpSync(dir, join(env.dataDir, 'models', model), { recursive: true });
  }
  context = await EngramContext.open(env.loaded({ ingest: { fileRoots: [PEOPLE] } }), silentLogger());
  const started = Date.now();
  // The first ingest starts the roles in this process; the other eight streams then run at once.
  const [first, ...rest] = CLIPS;
  await ingestAndWait(context, { name: first!, source: join(PEOPLE, `${first}.mkv`) });
  await Promise.all(rest.map((clip) => ingestAndWait(context!, { name: clip, source: join(PEOPLE, `${clip}.mkv`) })));
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
    expect(all.map((e) => e.stream).sort()).toEqual([...CLIPS].sort());
    for (const e of all) expect(e.people, e.stream).toEqual([byStream[e.stream]]);
    // Every sighting cites the stored event of its stream.
    for (const p of listed) for (const s of p.sightings) expect(all.find((e) => e.stream === s.stream)?.id).toBe(s.eventId);
    const book = byStream.book!;
    expect((await events('--person', book)).map((e) => e.stream).sort()).toEqual(['book', 'learn']);
  });
});

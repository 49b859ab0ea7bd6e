// The object detector through engram as a user runs it: `engram ingest` of a real clip of a person
// (../shared/media/people/book.mkv) with the converted CenterNet installed in the data directory's
// models folder, then `engram events --label person`: perceive detected, segment followed the
// presence, consolidate stored labels, counts and a summary that says who was there.
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { SHARED_MEDIA } from '../helpers/media.js';

const env = useTestEnv();
const MODEL = join(packageRoot(), 'data/models/centernet-coco');
/** Setup installs the detector with its 320x320 crop graph (perceive.gating.detect.crops); both, as a user has them. */
const DETECTORS = ['centernet-coco', 'centernet-coco-320'];

describe('engram ingest with the object detector installed', () => {
  it('stores a person event for a clip of a person, found by --label person', async () => {
    if (!existsSync(join(MODEL, 'model.onnx'))) throw new Error(`${MODEL} is missing: run \`npm run setup\`, which converts it from @vladmandic/human`);
    for (const m of DETECTORS) cpSync(join(packageRoot(), 'data/models', m), join(env.dataDir, 'models', m), { recursive: true });
    const ingest = await runCli(['ingest', join(SHARED_MEDIA, 'people/book.mkv'), '--name', 'book', '--json'], { env: env.childEnv(), timeoutMs: 240_000 });
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(JSON.parse(ingest.stdout)).toMatchObject({ stream: 'book', state: 'done', events: 1 });
    const listed = await runCli(['events', '--label', 'person', '--json'], { env: env.childEnv() });
    const events = JSON.parse(listed.stdout) as { stream: string; start: number; end: number; summary: string; labels: string[]; counts: Record<string, { distinct: number; max: number }> }[];
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ stream: 'book', start: 0, labels: ['person'], counts: { person: { distinct: 1, max: 1 } } });
    expect(events[0]!.end).toBeGreaterThan(3);
    // In view from the first keyframe to the last: there, not arriving.
    expect(events[0]!.summary).toMatch(/^A person was in view\./);
    const none = await runCli(['events', '--label', 'dog', '--json'], { env: env.childEnv() });
    expect(JSON.parse(none.stdout)).toEqual([]);
    // Each stored box says the size of the keyframe it is in (640x480: book.mkv is not scaled),
    // which the web UI needs to draw it over the smaller thumbnail.
    const memory = await MemoryStore.open(env.loaded().paths.lancedbUri);
    try {
      const [stored] = await memory.listEvents({ labels: ['person'] });
      const boxes = (await memory.momentsOfEvent(stored!.id)).flatMap((m) => m.detections);
      expect(boxes.length).toBeGreaterThan(0);
      for (const d of boxes) expect(d.frame).toEqual([640, 480]);
    } finally {
      await memory.close();
    }
  }, 300_000);
});

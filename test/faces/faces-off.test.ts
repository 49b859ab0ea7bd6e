// faces.enabled: false turns the whole feature off, with the face models installed: an ingested
// clip of a face leaves no face crop in the blob store, no people tables in LanceDB, no identity
// on its events, and `engram people` says faces are off instead of listing nobody.
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { SHARED_MEDIA } from '../helpers/media.js';

const env = useTestEnv();

describe('faces.enabled: false', () => {
  it('runs no face model and stores nothing of faces', async () => {
    for (const model of ['blazeface', 'faceres']) cpSync(join(packageRoot(), 'data/models', model), join(env.dataDir, 'models', model), { recursive: true });
    const off = env.childEnv({ ENGRAM_FACES__ENABLED: 'false', ENGRAM_INGEST__PROBE_TIMEOUT_MS: '60000' });
    const ingest = await runCli(['ingest', join(SHARED_MEDIA, 'people/eat.mkv'), '--name', 'eat', '--json'], { env: off, timeoutMs: 240_000 });
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(JSON.parse(ingest.stdout)).toMatchObject({ stream: 'eat', state: 'done' });
    const events = JSON.parse((await runCli(['events', '--json'], { env: off })).stdout) as { stream: string; people: string[] }[];
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.people).toEqual([]);
    expect(existsSync(join(env.dataDir, 'blobs', 'faces'))).toBe(false);
    const lance = readdirSync(join(env.dataDir, 'lancedb'));
    expect(lance.filter((t) => t.startsWith('faces') || t.startsWith('people'))).toEqual([]);
    const people = await runCli(['people', 'list'], { env: off });
    expect(people.code).toBe(2);
    expect(people.stderr).toMatch(/faces are turned off/);
    const asked = await runCli(['query', '--face', join(SHARED_MEDIA, 'people/eat.mkv'), 'when was this person here?'], { env: off });
    expect(asked.code).not.toBe(0);
    expect(asked.stderr).toMatch(/faces\.enabled: false/);
  }, 300_000);
});

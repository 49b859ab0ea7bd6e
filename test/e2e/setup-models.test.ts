// npm run setup's model steps (scripts/setup-models.sh) against a fresh data directory: they leave
// no generated model behind, and on a data directory that older setups filled with tiny test models
// they say which ones and how to remove them.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/env.js';
import { copyTestModels } from '../helpers/test-models.js';

const run = promisify(execFile);
const root = makeTempDir('engram-setup-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

function setupModels(dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ENGRAM_DATA_DIR: dataDir };
  return run('bash', [join(packageRoot(), 'scripts/setup-models.sh')], { env, cwd: packageRoot(), timeout: 400_000 }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
  );
}

/** Every manifest.json under dir, parsed. */
function manifests(dir: string): { path: string; source: { kind: string } }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => p.endsWith('manifest.json') && statSync(join(dir, p)).isFile())
    .map((p) => ({ path: p, ...(JSON.parse(readFileSync(join(dir, p), 'utf8')) as { source: { kind: string } }) }));
}

describe("npm run setup's model steps", () => {
  // The steps convert the TF.js models (about 15 s on an idle 2-core machine); the int8 detector,
  // whose calibration is about a minute of CPU, is made only when models.detector names it.
  it('leave a fresh data directory without any generated model, and engram lists none', { timeout: 480_000 }, async () => {
    const dataDir = join(root, 'fresh');
    const r = await setupModels(dataDir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(manifests(dataDir).filter((m) => m.source.kind === 'generated')).toEqual([]);
    const modelsDir = join(dataDir, 'models');
    expect(existsSync(modelsDir) ? readdirSync(modelsDir).filter((n) => n.startsWith('tiny-')) : []).toEqual([]);
    const listed = await runCli(['models', 'list', '--json'], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ENGRAM_DATA_DIR: dataDir } });
    expect(listed.code, listed.stderr).toBe(0);
    const models = JSON.parse(listed.stdout) as { name: string; origin: string; installed: boolean }[];
    expect(models.filter((m) => m.origin === 'test')).toEqual([]);
    expect(models.filter((m) => m.origin === 'npm').every((m) => m.installed)).toBe(true);
  });

  it('on a data directory holding tiny test models, name them and how to remove them', { timeout: 480_000 }, async () => {
    const dataDir = join(root, 'old');
    copyTestModels(join(dataDir, 'models'));
    const r = await setupModels(dataDir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`holds models generated for engram's tests: tiny-clap, tiny-color, tiny-minilm, tiny-whisper`);
    expect(r.stderr).toContain(`rm -r ${join(dataDir, 'models', 'tiny-clap')}`);
  });
});

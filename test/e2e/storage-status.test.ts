// Where the stores are and whether they answer, as an operator asks: `engram status` (text and
// --json) names each store's backend and location, exits 3 when one does not answer, and /readyz turns 503 naming the blob store
// when its object storage cannot be reached — while Redis and LanceDB still report ok.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../services/cli/status.js';
import { openApi } from '../helpers/api.js';
import { runCli } from '../helpers/cli.js';
import { makeTempDir, useTestEnv } from '../helpers/env.js';
import { freePort } from '../helpers/ports.js';
import { useTestS3 } from '../helpers/s3.js';

const env = useTestEnv();
const s3 = useTestS3();
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe('engram status and /readyz report each store', () => {
  it('shows the local defaults, then blobs on object storage, and says which store does not answer', async () => {
    const local = await runCli(['status'], { env: env.childEnv(), timeoutMs: 60_000 });
    expect(local.code, local.stderr).toBe(0);
    expect(local.stdout).toContain(`lancedb: local ${join(env.dataDir, 'lancedb')} ok`);
    expect(local.stdout).toContain(`blobs: local ${join(env.dataDir, 'blobs')} ok`);

    const shared = await runCli(['status', '--json'], { env: env.childEnv(s3.server.env({ prefix: 'site/' })), timeoutMs: 60_000 });
    expect(shared.code, shared.stderr).toBe(0);
    expect((JSON.parse(shared.stdout) as StatusReport).storage.blobs).toEqual({ backend: 's3', location: `s3://engram/site/ at ${s3.server.endpoint}`, ok: true });

    const closed = `http://127.0.0.1:${await freePort()}`;
    // A store that does not answer: the whole report, then exit status 3 (scripts and health
    // checks see it), the unreachable store named on stderr.
    const downEnv = env.childEnv({ ...s3.server.env(), ENGRAM_STORAGE__S3__ENDPOINT: closed });
    const down = await runCli(['status'], { env: downEnv, timeoutMs: 60_000 });
    expect(down.code, down.stderr).toBe(3);
    expect(down.stdout).toMatch(new RegExp(`^blobs: s3 s3://engram/ at ${closed.replace(/\./g, '\\.')} UNREACHABLE: object storage .*checking the bucket failed`, 'm'));
    expect(down.stdout).toMatch(/^redis: .* ok$/m);
    expect(down.stdout).toMatch(/^models:$/m);
    expect(down.stderr).toMatch(/^engram: unreachable: blobs \(s3 s3:\/\/engram\/ at .*checking the bucket failed/m);
    expect(down.stderr).not.toContain('lancedb');
    const downJson = await runCli(['status', '--json'], { env: downEnv, timeoutMs: 60_000 });
    expect(downJson.code, downJson.stderr).toBe(3);
    const report = JSON.parse(downJson.stdout) as StatusReport;
    expect(report.storage.blobs.ok).toBe(false);
    expect(report.storage.lancedb.ok).toBe(true);
    expect(report.redis.ok).toBe(true);
  }, 120_000);

  it('answers /readyz 503 naming the blob store when its bucket does not exist', async () => {
    // A data directory of its own: the API's background work (the label-word cache) may still be
    // writing in it when the test ends, so it is removed with retries.
    const dataDir = makeTempDir();
    const { app, stop } = await openApi(env.loaded({ dataDir, api: { port: 0 }, storage: s3.server.storage({ bucket: 'missing-bucket' }) }));
    cleanups.push(async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    });
    const ready = await app.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    const body = ready.json() as { ok: boolean; checks: Record<string, { ok: boolean; error?: string }> };
    expect(body.checks.redis).toEqual({ ok: true });
    expect(body.checks.lancedb).toEqual({ ok: true });
    expect(body.checks.blobs?.ok).toBe(false);
    expect(body.checks.blobs?.error).toContain('bucket "missing-bucket" does not exist');
  }, 60_000);
});

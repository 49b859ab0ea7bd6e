// The api role as a user starts it: `engram serve --roles api` prints where to open it and stops
// cleanly on SIGTERM; it refuses to listen off loopback without keys; `engram api` makes key hashes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENGRAM_BIN, runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';

const env = useTestEnv();

describe('engram api', () => {
  it('hash-key hashes like sha256sum, from an argument or stdin', async () => {
    const expected = createHash('sha256').update('my key').digest('hex');
    const arg = await runCli(['api', 'hash-key', 'my key'], { env: env.childEnv() });
    expect(arg).toMatchObject({ code: 0, stdout: `${expected}\n` });
    const stdin = await runCli(['api', 'hash-key'], { env: env.childEnv(), input: Buffer.from('my key\n') });
    expect(stdin).toMatchObject({ code: 0, stdout: `${expected}\n` });
    const empty = await runCli(['api', 'hash-key'], { env: env.childEnv(), input: Buffer.from('') });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^engram: no key given/);
  });

  it('new-key prints a key and its hash', async () => {
    const result = await runCli(['api', 'new-key', '--json'], { env: env.childEnv() });
    const { key, hash } = JSON.parse(result.stdout) as { key: string; hash: string };
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
  });
});

describe('engram serve', () => {
  it('starts every built role, prints the URL, answers on it, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [ENGRAM_BIN, 'serve'], { env: env.childEnv({ ENGRAM_API__PORT: '0' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed; stderr: ${stderr}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /^engram: web UI and API at (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const ready = await fetch(`${url}readyz`);
    expect(ready.status).toBe(200);
    // The dashboard lists every engram queue, and the ingest-backed routes answer.
    const queues = (await (await fetch(`${url}admin/queues/api/queues`)).json()) as { queues: { name: string }[] };
    expect(queues.queues.map((q) => q.name).sort()).toEqual(['consolidate', 'ingest', 'perceive', 'reason', 'segment']);
    expect((await fetch(`${url}api/streams`)).status).toBe(200);
    const page = await fetch(url);
    expect(await page.text()).toContain('<title>engram</title>');
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', resolve);
      child.kill('SIGTERM');
    });
    expect(code).toBe(0);
  });

  it('refuses to listen off loopback without API keys', async () => {
    const result = await runCli(['serve', '--roles', 'api'], { env: env.childEnv({ ENGRAM_API__HOST: '0.0.0.0', ENGRAM_API__PORT: '0' }), timeoutMs: 30_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/api\.host is 0\.0\.0\.0, which is not loopback: set api\.apiKeys/);
  });
});

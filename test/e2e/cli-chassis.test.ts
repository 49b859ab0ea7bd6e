// The engram command as a user runs it on a fresh machine: status with a managed Redis (shared by
// two processes at once), config printing, and one clear line for each expected failure.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../helpers/env.js';
import { runCli } from '../helpers/cli.js';

let dir: string;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ENGRAM_DATA_DIR: join(dir, 'data'), ENGRAM_LOG__LEVEL: 'warn' };
  return { ...base, ...extra };
}

beforeAll(() => {
  dir = makeTempDir('engram-cli-');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('engram CLI (chassis)', () => {
  it('status --json starts a managed Redis, reports it ok with every queue, and stops it afterwards', async () => {
    const result = await runCli(['status', '--json'], { env: env() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.redis).toEqual({ url: `unix://${join(dir, 'data/redis/redis.sock')}`, managed: true, ok: true });
    expect(Object.keys(report.queues).sort()).toEqual(['consolidate', 'ingest', 'perceive', 'reason', 'segment']);
    expect(report.queues.ingest).toEqual({ waiting: 0, active: 0, completed: 0, failed: 0, delayed: 0 });
    expect(Array.isArray(report.streams)).toBe(true);
    expect(Array.isArray(report.models)).toBe(true);
    // Nobody uses it any more, so the process that started it stopped it.
    expect(existsSync(join(dir, 'data/redis/redis.sock'))).toBe(false);
  });

  it('two status commands at once share one redis-server', async () => {
    const [a, b] = await Promise.all([runCli(['status', '--json'], { env: env() }), runCli(['status', '--json'], { env: env() })]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(JSON.parse(a.stdout).redis.ok).toBe(true);
    expect(JSON.parse(b.stdout).redis.ok).toBe(true);
    expect(existsSync(join(dir, 'data/redis/redis.sock'))).toBe(false);
  });

  it('prints the resolved configuration with secrets hidden', async () => {
    const result = await runCli(['config', 'print', '--json'], { env: env({ REDIS_URL: 'redis://user:hunter2@example.invalid:6379' }) });
    expect(result.code).toBe(0);
    const printed = JSON.parse(result.stdout);
    expect(printed.redis.url).toBe('redis://user:***@example.invalid:6379');
    expect(printed.resolvedPaths.dataDir).toBe(join(dir, 'data'));
    expect(result.stdout).not.toContain('hunter2');
  });

  it('bad configuration: every wrong key in one message, exit 2, no stack trace', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'queues:\n  perceive:\n    concurrency: -1\nredis:\n  connectTimeoutMs: soon\n');
    const result = await runCli(['--config', file, 'status'], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^engram: invalid configuration:/);
    expect(result.stderr).toMatch(/queues\.perceive\.concurrency: .*\(got -1\)/);
    expect(result.stderr).toMatch(/redis\.connectTimeoutMs: .*number.*\(got "soon"\)/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unreachable REDIS_URL: one clear line and a non-zero exit', async () => {
    const result = await runCli(['status'], { env: env({ REDIS_URL: 'redis://127.0.0.1:1' }) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('engram: cannot reach Redis at redis://127.0.0.1:1: ECONNREFUSED');
  });

  it('status --json still prints a report saying Redis is not ok', async () => {
    const result = await runCli(['status', '--json'], { env: env({ REDIS_URL: 'redis://127.0.0.1:1' }) });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).redis).toMatchObject({ url: 'redis://127.0.0.1:1', managed: false, ok: false });
  });

  it('a missing redis-server binary is named', async () => {
    const result = await runCli(['status'], { env: env({ ENGRAM_REDIS__MANAGED__BINARY: '/opt/none/redis-server' }) });
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^engram: redis-server not found \(tried "\/opt\/none\/redis-server"\)/);
  });

  it('refuses unknown roles by name', async () => {
    const result = await runCli(['worker', 'juggler'], { env: env() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown role "juggler"/);
  });

  it('has --help on every subcommand', async () => {
    for (const args of [['--help'], ['status', '--help'], ['serve', '--help'], ['worker', '--help'], ['config', 'print', '--help']]) {
      const result = await runCli(args, { env: env() });
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout).toMatch(/Usage: engram/);
    }
  });

  it('a data directory that cannot be created is reported plainly', async () => {
    const blocker = join(dir, 'blocker');
    mkdirSync(dir, { recursive: true });
    writeFileSync(blocker, 'a file, not a directory');
    const result = await runCli(['status'], { env: env({ ENGRAM_DATA_DIR: join(blocker, 'data') }) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^engram: /);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

// Test environment: each test file gets its own data directory and its own redis-server on a
// temporary unix socket, removed afterwards. Use from a test file:
//   const env = useTestEnv();            // registers beforeAll/afterAll
//   const loaded = env.loaded();          // LoadedConfig pointing at this redis and data dir
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { ManagedRedis } from '../../pipelines/repositories/redis-server.js';

export interface TestEnv {
  /** The temp data directory of this test file. */
  readonly dataDir: string;
  /** unix:// URL of this file's redis-server. */
  readonly redisUrl: string;
  /** Config for this environment; overrides are merged over the defaults. */
  loaded(overrides?: Record<string, unknown>): LoadedConfig;
  /** Environment variables that point a child engram process at this environment. */
  childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
}

export function makeTempDir(prefix = 'engram-test-'): string {
  // Short paths: unix socket paths are limited to 107 bytes.
  return mkdtempSync(join(tmpdir(), prefix));
}

export function useTestEnv(): TestEnv {
  let dataDir = '';
  let redis: ManagedRedis | undefined;
  beforeAll(async () => {
    dataDir = makeTempDir();
    redis = await ManagedRedis.acquire({ dir: join(dataDir, 'test-redis'), binary: 'redis-server', startTimeoutMs: 10_000, maxMemory: '0' });
  });
  afterAll(async () => {
    // The last engram client is gone by now, so this stops the server.
    await redis?.release('test-env-none-');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    get dataDir() {
      return dataDir;
    },
    get redisUrl() {
      if (!redis) throw new Error('useTestEnv: used before beforeAll ran');
      return redis.url;
    },
    loaded(overrides = {}) {
      return loadConfig({
        env: { REDIS_URL: this.redisUrl },
        overrides: { dataDir, log: { level: 'silent' }, ...overrides },
      });
    },
    childEnv(extra = {}) {
      const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: this.redisUrl, ENGRAM_DATA_DIR: dataDir, ENGRAM_LOG__LEVEL: 'warn', ...extra };
      for (const key of Object.keys(env)) if (key.startsWith('ENGRAM_') && !(key in extra) && key !== 'ENGRAM_DATA_DIR' && key !== 'ENGRAM_LOG__LEVEL') delete env[key];
      return env;
    },
  };
}

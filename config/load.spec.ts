import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { defaultConfigPath, envOverrides, loadConfig, parseConfig } from './load.js';
import { ConfigSchema } from './schema.js';
import { problemsOf } from '../test/helpers/config-problems.js';

const noEnv = {};

describe('configuration', () => {
  it('default.yaml says exactly what the schema defaults are', () => {
    const fromFile = parseConfig(parse(readFileSync(defaultConfigPath(), 'utf8')));
    const fromSchema = ConfigSchema.parse({});
    expect(fromFile).toEqual(fromSchema);
  });

  it('resolves the data directory and derived paths against the working directory', () => {
    const { config, paths } = loadConfig({ env: noEnv, cwd: '/srv/engram' });
    expect(config.dataDir).toBe('./data');
    expect(paths.dataDir).toBe('/srv/engram/data');
    expect(paths.redisDir).toBe('/srv/engram/data/redis');
    expect(paths.lancedbUri).toBe('/srv/engram/data/lancedb');
  });

  it('keeps object-store LanceDB URIs as they are', () => {
    const { paths } = loadConfig({ env: { ENGRAM_STORAGE__LANCEDB_URI: 's3://bucket/engram' }, cwd: '/x' });
    expect(paths.lancedbUri).toBe('s3://bucket/engram');
  });

  it('reads ENGRAM_* variables with their types, and REDIS_URL', () => {
    const { config } = loadConfig({
      env: { ENGRAM_DATA_DIR: '/var/lib/engram', ENGRAM_LOG__LEVEL: 'debug', ENGRAM_QUEUES__PERCEIVE__CONCURRENCY: '3', REDIS_URL: 'redis://cache:6380/2' },
    });
    expect(config.dataDir).toBe('/var/lib/engram');
    expect(config.log.level).toBe('debug');
    expect(config.queues.perceive.concurrency).toBe(3);
    expect(config.redis.url).toBe('redis://cache:6380/2');
  });

  it('lets a --config file override defaults and the environment override the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-cfg-'));
    const file = join(dir, 'engram.yaml');
    writeFileSync(file, 'log:\n  level: warn\nqueues:\n  ingest:\n    concurrency: 2\n');
    const { config } = loadConfig({ configFile: file, env: { ENGRAM_QUEUES__INGEST__CONCURRENCY: '7' } });
    expect(config.log.level).toBe('warn');
    expect(config.queues.ingest.concurrency).toBe(7);
    expect(config.queues.ingest.attempts).toBe(5);
  });

  it('reports every wrong key at once, with what was expected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-cfg-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'log:\n  level: loud\nqueues:\n  ingest:\n    concurrency: "many"\nredis:\n  prefx: x\n');
    const problems = problemsOf(() => loadConfig({ configFile: file, env: { ENGRAM_NOPE: '1' } }));
    expect(problems).toHaveLength(4);
    expect(problems.join('\n')).toMatch(/ENGRAM_NOPE: no option nope/);
    expect(problems.join('\n')).toMatch(/log\.level: .*"info".*\(got "loud"\)/);
    expect(problems.join('\n')).toMatch(/queues\.ingest\.concurrency: .*number.*\(got "many"\)/);
    expect(problems.join('\n')).toMatch(/redis\.prefx: unknown option/);
  });

  it('names an unreadable or malformed config file', () => {
    expect(problemsOf(() => loadConfig({ configFile: '/nonexistent/engram.yaml', env: noEnv }))[0]).toMatch(/\/nonexistent\/engram\.yaml: cannot be read \(ENOENT\)/);
    const dir = mkdtempSync(join(tmpdir(), 'engram-cfg-'));
    writeFileSync(join(dir, 'x.yaml'), 'log: [unclosed');
    expect(problemsOf(() => loadConfig({ configFile: join(dir, 'x.yaml'), env: noEnv }))[0]).toMatch(/not valid YAML/);
    writeFileSync(join(dir, 'y.yaml'), '- a\n- b\n');
    expect(problemsOf(() => loadConfig({ configFile: join(dir, 'y.yaml'), env: noEnv }))[0]).toMatch(/expected a mapping/);
  });

  it('ignores unrelated variables and matches names without case or underscores', () => {
    const { values, problems } = envOverrides({ PATH: '/bin', ENGRAM_REDIS__CONNECT_TIMEOUT_MS: '100' });
    expect(problems).toEqual([]);
    expect(values).toEqual({ redis: { connectTimeoutMs: 100 } });
  });

  it('takes text options verbatim, so IPv6 addresses stay addresses', () => {
    expect(loadConfig({ env: { ENGRAM_API__HOST: '::' } }).config.api.host).toBe('::');
    expect(loadConfig({ env: { ENGRAM_API__HOST: '::1' } }).config.api.host).toBe('::1');
    expect(loadConfig({ env: { ENGRAM_LOG__LEVEL: 'debug' } }).config.log.level).toBe('debug');
    // Numbers and booleans keep their type; lists take commas or YAML flow syntax.
    const { config } = loadConfig({
      env: { ENGRAM_API__PORT: '8080', ENGRAM_PERCEIVE__OCR: 'false', ENGRAM_INGEST__ALLOWED_HOSTS: '192.168.1.0/24, ::1, cam.lan', ENGRAM_API__HOST_NAMES: '[engram.home, "::1"]' },
    });
    expect(config.api.port).toBe(8080);
    expect(config.perceive.ocr).toBe(false);
    expect(config.ingest.allowedHosts).toEqual(['192.168.1.0/24', '::1', 'cam.lan']);
    expect(config.api.hostNames).toEqual(['engram.home', '::1']);
    // A number option given a mapping-looking text is reported as the text it was.
    expect(problemsOf(() => loadConfig({ env: { ENGRAM_API__PORT: '::' } }))).toEqual(['api.port: Invalid input: expected number, received string (got "::")']);
    expect(problemsOf(() => loadConfig({ env: { ENGRAM_INGEST__ALLOWED_HOSTS: 'cam.lan/99' } }))[0]).toMatch(/^ingest\.allowedHosts\.0: "cam\.lan" is not an IP address/);
  });
});

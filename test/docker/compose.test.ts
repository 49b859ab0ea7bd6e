// docker/compose.yml is the multi-host example; with no Docker engine here it is checked by
// reading: every role runs, two perceive workers, each engram service has a data volume of its
// own and shares only Redis and the object store, and its environment is a valid engram
// configuration (through the real loader) that points LanceDB and blobs at the compose file's own
// S3 service and the bucket its init service creates.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, packageRoot } from '../../config/load.js';
import { ROLES } from '../../pipelines/jobs.js';

interface Service {
  image?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}

const compose = parse(readFileSync(join(packageRoot(), 'docker/compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;
const engram = Object.entries(services).filter(([, s]) => s.image === 'engram:latest');

/** The value compose gives `${NAME:-default}` when NAME is not set. */
function withDefaults(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1')]));
}

describe('docker/compose.yml (the multi-host example)', () => {
  it('runs every role, perceive on two services, each as `worker ROLE`', () => {
    const roles = engram.map(([, s]) => (s.command as string[])[1]);
    for (const [name, s] of engram) {
      expect(Array.isArray(s.command) && s.command.length === 2 && s.command[0] === 'worker', name).toBe(true);
      expect(ROLES, name).toContain((s.command as string[])[1]);
    }
    expect([...new Set(roles)].sort()).toEqual([...ROLES].sort());
    expect(roles.filter((r) => r === 'perceive').length).toBeGreaterThanOrEqual(2);
  });

  it('gives each engram service its own data volume: they share only Redis and the object store', () => {
    const dataVolumes = engram.map(([name, s]) => {
      const data = (s.volumes ?? []).find((v) => v.split(':')[1] === '/data');
      expect(data, `${name} mounts a volume on /data`).toBeDefined();
      return data!.split(':')[0]!;
    });
    expect(new Set(dataVolumes).size).toBe(engram.length);
    for (const volume of dataVolumes) expect(Object.keys(compose.volumes)).toContain(volume);
  });

  it('configures every engram service, through the real config loader, for LanceDB and blobs on its own S3 service', () => {
    const objects = services.objects!;
    const s3Port = /-s3\.port=(\d+)/.exec((objects.command as string[]).join(' '))?.[1];
    expect(s3Port).toBeDefined();
    const bucketScript = (services.bucket!.entrypoint as string[]).join(' ');
    for (const [name, s] of engram) {
      const loaded = loadConfig({ env: withDefaults(s.environment ?? {}) });
      const storage = loaded.config.storage;
      expect(storage.blobs, name).toBe('s3');
      expect(storage.s3.endpoint, name).toBe(`http://objects:${s3Port}`);
      expect(loaded.paths.lancedbUri, name).toBe(`s3://${storage.s3.bucket}/memory`);
      expect(storage.s3.accessKeyId, name).not.toBe('');
      expect(loaded.config.redis.url, name).toBe('redis://redis:6379');
      // The bucket the init service makes is the one engram uses, and engram waits for it.
      expect(bucketScript).toContain(`s3 mb s3://${storage.s3.bucket}`);
      expect(bucketScript).toContain(`http://objects:${s3Port}`);
      expect((s.depends_on as Record<string, { condition: string }>).bucket, name).toEqual({ condition: 'service_completed_successfully' });
    }
  });
});

// storage.* as an operator sets it: S3 credentials from the AWS variables every S3 tool reads,
// ENGRAM_STORAGE__S3__* winning over them, and a clear error for blobs on S3 without a bucket.
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';
import { problemsOf } from '../test/helpers/config-problems.js';

describe('storage config', () => {
  it('defaults to local blobs and a local LanceDB directory, with the commit lock on auto', () => {
    const { config } = loadConfig({ env: {}, cwd: '/srv/engram' });
    expect(config.storage).toMatchObject({ blobs: 'local', commitLock: 'auto', lancedbOptions: {}, spoolMaxBytes: 2 * 1024 ** 3 });
    expect(config.storage.s3).toEqual({ endpoint: '', region: 'us-east-1', bucket: '', prefix: '', accessKeyId: '', secretAccessKey: '', sessionToken: '', forcePathStyle: true });
  });

  it('takes S3 settings from the AWS variables, and ENGRAM_STORAGE__S3__* over them', () => {
    const { config } = loadConfig({
      env: {
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL: 'http://minio:9000',
        ENGRAM_STORAGE__BLOBS: 's3',
        ENGRAM_STORAGE__S3__BUCKET: 'cams',
        ENGRAM_STORAGE__S3__REGION: 'eu-central-1',
        ENGRAM_STORAGE__LANCEDB_OPTIONS: '{timeout: 60s}',
      },
    });
    expect(config.storage.s3).toMatchObject({ accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', region: 'eu-central-1', endpoint: 'http://minio:9000', bucket: 'cams' });
    expect(config.storage.lancedbOptions).toEqual({ timeout: '60s' });
  });

  it('names the key that is wrong: a missing bucket, a bad bucket name, a prefix without its slash, an unknown backend', () => {
    expect(problemsOf(() => loadConfig({ env: { ENGRAM_STORAGE__BLOBS: 's3' } }))).toEqual(['storage.s3.bucket: required when storage.blobs is s3 (the bucket thumbnails and clips go to) (got "")']);
    const many = problemsOf(() => loadConfig({ env: {}, overrides: { storage: { blobs: 'nfs', s3: { bucket: 'Bad_Bucket', prefix: 'engram', endpoint: 'minio:9000' } } } }));
    expect(many.join('\n')).toMatch(/storage\.blobs: .*"nfs"/);
    expect(many.join('\n')).toMatch(/storage\.s3\.bucket: an S3 bucket name/);
    expect(many.join('\n')).toMatch(/storage\.s3\.prefix: empty, or a key prefix ending in "\/"/);
    expect(many.join('\n')).toMatch(/storage\.s3\.endpoint: an http:\/\/ or https:\/\/ URL/);
  });
});

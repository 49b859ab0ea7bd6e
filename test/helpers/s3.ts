// The S3-compatible test server (s3-server.ts) for a vitest file: started before its tests,
// closed after.
import { afterAll, beforeAll } from 'vitest';
import { startS3, type TestS3 } from './s3-server.js';

export { S3_KEY, startS3, type TestS3 } from './s3-server.js';

/** One server per test file: started before the tests, closed after. */
export function useTestS3(buckets?: string[]): { readonly server: TestS3 } {
  let server: TestS3 | undefined;
  beforeAll(async () => {
    server = await startS3(buckets);
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get server() {
      if (!server) throw new Error('useTestS3: used before beforeAll ran');
      return server;
    },
  };
}

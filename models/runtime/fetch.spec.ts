// engram's fetcher against a local HTTP server in Hugging Face's layout: first download records
// digests, a corrupted file is refused, an interrupted download resumes, an offline hub is named.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test/helpers/env.js';
import { copyTestModels } from '../../test/helpers/test-models.js';
import type { Manifest } from '../manifest/schema.js';
import { loadCatalog, readRecorded, type CatalogEntry } from './catalog.js';
import { fetchModel } from './fetch.js';
import { ModelRepository } from './model-repository.js';

const REPO = 'engram-test/tiny-color';
const REVISION = '0123456789abcdef0123456789abcdef01234567';
let root = '';
let served: Record<string, Buffer> = {};
let server: Server;
let base = '';
let requests: { path: string; range?: string }[] = [];
/** Per-path behaviour for the next request: cut the body after n bytes. */
let cutAfter: Record<string, number> = {};

function entry(modelsDir: string, pins: Record<string, string> = {}): CatalogEntry {
  // The tiny-color model described as a hub model: files fetched from the server above.
  const built = JSON.parse(readFileSync(join(root, 'source/tiny-color/manifest.json'), 'utf8')) as Manifest;
  const manifest: Manifest = {
    ...built,
    name: 'hub-color',
    source: { kind: 'huggingface', repo: REPO, revision: REVISION, url: `https://huggingface.co/${REPO}` },
    checksums: 'recorded-on-first-download',
    files: built.files.map((f) => (pins[f.path] ? { path: f.path, sha256: pins[f.path], recordOnFirstDownload: false } : { path: f.path, recordOnFirstDownload: true })),
  };
  return { manifest, origin: 'hub', baseDir: join(modelsDir, 'hub-color'), manifestPath: 'test' };
}

beforeAll(async () => {
  root = makeTempDir('engram-fetch-');
  copyTestModels(join(root, 'source'));
  for (const f of ['vision_model.onnx', 'text_model.onnx', 'tokenizer.json']) served[f] = readFileSync(join(root, 'source/tiny-color', f));
  server = createServer((req, res) => {
    const prefix = `/${REPO}/resolve/${REVISION}/`;
    const path = decodeURIComponent(req.url ?? '').slice(prefix.length);
    requests.push({ path, ...(req.headers.range ? { range: req.headers.range } : {}) });
    const body = req.url?.startsWith(prefix) ? served[path] : undefined;
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) start = Number(m[1]);
    const part = body.subarray(start);
    res.writeHead(m ? 206 : 200, { 'content-length': part.length, 'x-repo-commit': REVISION, ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) });
    const cut = cutAfter[path];
    if (cut !== undefined) {
      delete cutAfter[path];
      // the connection stalls after a first part, then drops mid-file
      res.write(part.subarray(0, cut), () => setTimeout(() => res.destroy(), 300));
      return;
    }
    res.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  requests = [];
  cutAfter = {};
  served = Object.fromEntries(Object.entries(served).map(([k, v]) => [k, Buffer.from(readFileSync(join(root, 'source/tiny-color', k)))]));
});

const flip = (buf: Buffer, at: number) => {
  buf[at] = (buf[at] as number) ^ 0xff;
};

const fresh = () => {
  const d = join(makeTempDir('engram-fetched-'), 'models');
  mkdirSync(d, { recursive: true });
  return d;
};

describe('models fetch', () => {
  it('downloads in Hugging Face layout, records digests and the commit, and the model then works', async () => {
    const modelsDir = fresh();
    const result = await fetchModel(entry(modelsDir), { modelsDir, baseUrl: base });
    expect(result.revision).toBe(REVISION);
    expect(requests.map((r) => r.path).sort()).toEqual(['text_model.onnx', 'tokenizer.json', 'vision_model.onnx']);
    const recorded = readRecorded(modelsDir, 'hub-color');
    expect(recorded.files['vision_model.onnx']).toBe(createHash('sha256').update(served['vision_model.onnx']!).digest('hex'));
    // a second fetch finds everything present and verified
    requests = [];
    await fetchModel(entry(modelsDir), { modelsDir, baseUrl: base });
    expect(requests).toEqual([]);
    // and the fetched files run: written as an installed manifest, the space embeds
    writeFileSync(join(modelsDir, 'hub-color/manifest.json'), JSON.stringify(entry(modelsDir).manifest));
    const repo = await ModelRepository.open({ config: (await import('../../config/schema.js')).ModelsSchema.parse({}), paths: { modelsDir }, log: { info: () => undefined, warn: () => undefined } });
    try {
      expect(repo.status().find((s) => s.name === 'hub-color')).toMatchObject({ installed: true, checksum: 'ok' });
      expect(await repo.embedTexts('tiny-color', ['red'])).toHaveLength(1);
    } finally {
      await repo.close();
    }
  });

  it('refuses a corrupted file against a pinned sha256, naming it, and keeps nothing of it', async () => {
    const modelsDir = fresh();
    const pin = createHash('sha256').update(served['vision_model.onnx']!).digest('hex');
    flip(served['vision_model.onnx']!, 100);
    await expect(fetchModel(entry(modelsDir, { 'vision_model.onnx': pin }), { modelsDir, baseUrl: base })).rejects.toThrow(
      new RegExp(`hub-color/vision_model\\.onnx has sha256 [0-9a-f]{64} but the manifest pins ${pin}; refusing it`),
    );
    expect(existsSync(join(modelsDir, 'hub-color/vision_model.onnx'))).toBe(false);
    expect(existsSync(join(modelsDir, 'hub-color/vision_model.onnx.part'))).toBe(false);
  });

  it('refuses a file that changed since its first download', async () => {
    const modelsDir = fresh();
    await fetchModel(entry(modelsDir), { modelsDir, baseUrl: base });
    rmSync(join(modelsDir, 'hub-color/text_model.onnx'));
    flip(served['text_model.onnx']!, 50);
    await expect(fetchModel(entry(modelsDir), { modelsDir, baseUrl: base })).rejects.toThrow(/text_model\.onnx has sha256 .* but the first download recorded/);
  });

  it('resumes an interrupted download with Range and verifies the whole file', async () => {
    const modelsDir = fresh();
    const pin = createHash('sha256').update(served['vision_model.onnx']!).digest('hex');
    cutAfter['vision_model.onnx'] = 40;
    await expect(fetchModel(entry(modelsDir, { 'vision_model.onnx': pin }), { modelsDir, baseUrl: base })).rejects.toThrow(/vision_model\.onnx was interrupted after \d+ bytes.*run fetch again to resume/);
    const partial = statSync(join(modelsDir, 'hub-color/vision_model.onnx.part')).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(served['vision_model.onnx']!.length);
    requests = [];
    await fetchModel(entry(modelsDir, { 'vision_model.onnx': pin }), { modelsDir, baseUrl: base });
    expect(requests.find((r) => r.path === 'vision_model.onnx')?.range).toBe(`bytes=${partial}-`);
    expect(readFileSync(join(modelsDir, 'hub-color/vision_model.onnx')).equals(served['vision_model.onnx']!)).toBe(true);
  });

  it('says plainly when the hub cannot be reached', async () => {
    const modelsDir = fresh();
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(fetchModel(entry(modelsDir), { modelsDir, baseUrl: `http://127.0.0.1:${port}` })).rejects.toThrow(new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); is this machine offline\\?`));
    await expect(fetchModel(entry(modelsDir), { modelsDir, baseUrl: 'http://hub.engram-offline.invalid' })).rejects.toThrow(/cannot reach http:\/\/hub\.engram-offline\.invalid \((ENOTFOUND|EAI_AGAIN)\)/);
  });

  it('names a file the hub does not have', async () => {
    const modelsDir = fresh();
    delete served['tokenizer.json'];
    await expect(fetchModel(entry(modelsDir), { modelsDir, baseUrl: base })).rejects.toThrow(/tokenizer\.json answered HTTP 404/);
  });

  it('knows the shipped hub manifests', () => {
    const catalog = loadCatalog(fresh());
    for (const name of ['clip-vit-b32', 'clap-htsat-unfused', 'whisper-base', 'all-minilm-l6-v2']) expect(catalog.get(name)?.manifest.source.kind).toBe('huggingface');
  });
});

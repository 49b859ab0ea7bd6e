// Finds manifests (shipped under models/manifests, installed under <modelsDir>/<name>/manifest.json),
// resolves their files (npm package or models folder) and checks sha256 digests.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../config/load.js';
import { ManifestSchema, modelOrigin, type Manifest, type ModelOrigin } from '../manifest/schema.js';
import { ModelError } from './errors.js';

export type ChecksumState = 'ok' | 'mismatch' | 'missing' | 'unverified';

export interface CatalogEntry {
  manifest: Manifest;
  /** Where the model comes from (npm package, converted at setup, model hub, generated for tests). */
  origin: ModelOrigin;
  /** Folder the manifest's file paths are relative to. */
  baseDir: string;
  manifestPath: string;
}

export interface RecordedChecksums {
  revision?: string;
  files: Record<string, string>;
}

export function shippedManifestDir(): string {
  return join(packageRoot(), 'models/manifests');
}

export function readManifest(path: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ModelError(`manifest ${path}: cannot be read as JSON (${(error as Error).message})`);
  }
  const parsed = ManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ModelError(`manifest ${path} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  return parsed.data;
}

export function modelDir(modelsDir: string, name: string): string {
  return join(modelsDir, name);
}

function baseDirFor(manifest: Manifest, modelsDir: string): string {
  if (manifest.source.kind === 'npm') return join(packageRoot(), 'node_modules', manifest.source.package);
  return modelDir(modelsDir, manifest.name);
}

export interface CatalogOptions {
  /** Load generated test models found in the models folder (models.allowTestModels). */
  allowTestModels?: boolean;
  /** Filled with the generated test models left out because allowTestModels is off, by name. */
  refusedTestModels?: Map<string, CatalogEntry>;
}

/**
 * Every known model: shipped manifests first, then ones installed in the models folder (which win on
 * a name clash). A broken installed manifest is left out and reported through `broken` (one bad
 * folder must not take VAD and OCR down with it); a broken shipped manifest is a bug and throws.
 * Generated test models are left out unless allowTestModels: their weights are made up, and older
 * versions of setup wrote them into users' models folders.
 */
export function loadCatalog(modelsDir: string, broken: Map<string, string> = new Map(), options: CatalogOptions = {}): Map<string, CatalogEntry> {
  const out = new Map<string, CatalogEntry>();
  const shipped = shippedManifestDir();
  for (const file of readdirSync(shipped).filter((f) => f.endsWith('.json')).sort()) {
    const path = join(shipped, file);
    const manifest = readManifest(path);
    out.set(manifest.name, { manifest, origin: modelOrigin(manifest.source), baseDir: baseDirFor(manifest, modelsDir), manifestPath: path });
  }
  if (existsSync(modelsDir)) {
    for (const name of readdirSync(modelsDir).sort()) {
      const path = join(modelsDir, name, 'manifest.json');
      if (!existsSync(path)) continue;
      let entry: CatalogEntry;
      try {
        const manifest = readManifest(path);
        entry = { manifest, origin: modelOrigin(manifest.source), baseDir: join(modelsDir, name), manifestPath: path };
      } catch (error) {
        broken.set(name, (error as Error).message);
        continue;
      }
      if (entry.origin === 'test' && !options.allowTestModels) options.refusedTestModels?.set(entry.manifest.name, entry);
      else out.set(entry.manifest.name, entry);
    }
  }
  return out;
}

/** A path as a shell word, quoted only when it needs to be. */
function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/** The command that removes generated test models from a models folder. */
export function removeTestModelsCommand(entries: Iterable<CatalogEntry>): string {
  return `rm -r ${[...entries].map((e) => shellWord(e.baseDir)).join(' ')}`;
}

/** What a user whose models folder holds generated test models is told, once per process. */
export function testModelsWarning(modelsDir: string, refused: Map<string, CatalogEntry>): string {
  return (
    `${modelsDir} holds models generated for engram's tests: ${[...refused.keys()].join(', ')}. ` +
    'They are not used (their weights are made up: every sound would be transcribed as "hello world"); ' +
    `older versions of npm run setup put them there. Remove them: ${removeTestModelsCommand(refused.values())}`
  );
}

type HashCache = Record<string, { size: number; mtimeMs: number; sha256: string }>;
const hashCache: HashCache = {};
const loadedCaches = new Set<string>();

/**
 * Digests are remembered by path, size and mtime, in memory and (when cacheDir is given) in
 * <cacheDir>/.sha256-cache.json, so `engram status` does not re-read 600 MB of CLIP every time.
 */
export async function sha256File(path: string, cacheDir?: string): Promise<string> {
  const cacheFile = cacheDir ? join(cacheDir, '.sha256-cache.json') : undefined;
  if (cacheFile && !loadedCaches.has(cacheFile)) {
    loadedCaches.add(cacheFile);
    try {
      Object.assign(hashCache, JSON.parse(readFileSync(cacheFile, 'utf8')) as HashCache);
    } catch {
      // no cache yet, or an unreadable one: digests are recomputed
    }
  }
  const st = statSync(path);
  const cached = hashCache[path];
  if (cached && cached.size === st.size && cached.mtimeMs === st.mtimeMs) return cached.sha256;
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const sha256 = hash.digest('hex');
  hashCache[path] = { size: st.size, mtimeMs: st.mtimeMs, sha256 };
  if (cacheFile && existsSync(cacheDir!)) {
    try {
      writeFileSync(cacheFile, JSON.stringify(hashCache));
    } catch {
      // a read-only models folder only costs re-hashing in the next process
    }
  }
  return sha256;
}

export function checksumsPath(modelsDir: string, name: string): string {
  return join(modelDir(modelsDir, name), 'checksums.json');
}

export function readRecorded(modelsDir: string, name: string): RecordedChecksums {
  const path = checksumsPath(modelsDir, name);
  if (!existsSync(path)) return { files: {} };
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RecordedChecksums;
  } catch {
    throw new ModelError(`${path}: not valid JSON; delete it and fetch again`);
  }
}

export interface FileCheck {
  path: string;
  file: string;
  state: ChecksumState;
  expected?: string;
  actual?: string;
}

/** Checks every file of a model; expected digests come from the manifest or from the first download. */
export async function checkFiles(entry: CatalogEntry, modelsDir: string): Promise<FileCheck[]> {
  const recorded = readRecorded(modelsDir, entry.manifest.name);
  const out: FileCheck[] = [];
  for (const f of entry.manifest.files) {
    const file = join(entry.baseDir, f.path);
    const expected = f.sha256 ?? recorded.files[f.path];
    if (!existsSync(file)) {
      out.push({ path: f.path, file, state: 'missing', ...(expected ? { expected } : {}) });
      continue;
    }
    const actual = await sha256File(file, modelsDir);
    const state: ChecksumState = expected === undefined ? 'unverified' : expected === actual ? 'ok' : 'mismatch';
    out.push({ path: f.path, file, state, actual, ...(expected ? { expected } : {}) });
  }
  return out;
}

export function overallState(checks: FileCheck[]): ChecksumState {
  if (checks.some((c) => c.state === 'missing')) return 'missing';
  if (checks.some((c) => c.state === 'mismatch')) return 'mismatch';
  if (checks.some((c) => c.state === 'unverified')) return 'unverified';
  return 'ok';
}

export function isInstalled(entry: CatalogEntry): boolean {
  return entry.manifest.files.every((f) => existsSync(join(entry.baseDir, f.path)));
}

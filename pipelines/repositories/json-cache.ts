// A value that is slow to compute and never changes for the same inputs, kept as JSON in a file:
// built once, read in milliseconds afterwards. The key names the inputs, so a change in any of them
// rebuilds it. One build per process and file, however many callers ask at once.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

interface CacheFile<T> {
  key: string;
  value: T;
}

const loaded = new Map<string, Promise<unknown>>();

/** The value cached in `file` under `key`, or built and written there. */
export function cachedJson<T>(file: string, key: string, build: () => Promise<T>): Promise<T> {
  const id = `${path.resolve(file)}\n${key}`;
  let pending = loaded.get(id) as Promise<T> | undefined;
  if (!pending) {
    pending = readOrBuild(file, key, build);
    loaded.set(id, pending);
    pending.catch(() => loaded.delete(id));
  }
  return pending;
}

async function readOrBuild<T>(file: string, key: string, build: () => Promise<T>): Promise<T> {
  try {
    const cached = JSON.parse(await readFile(file, 'utf8')) as CacheFile<T>;
    if (cached.key === key) return cached.value;
  } catch {
    // Missing or unreadable: build it.
  }
  const value = await build();
  await mkdir(path.dirname(file), { recursive: true });
  // Written aside and renamed, so a reader in another process never sees half a file.
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify({ key, value } satisfies CacheFile<T>));
  await rename(temp, file);
  return value;
}

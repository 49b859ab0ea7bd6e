// Where file sources may come from, shared by the roles that resolve sources (ingest, and the
// api's clip cutter, which re-resolves a stream's source before reading it).
import { existsSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { EngramContext } from './context.js';

/** ingest.fileRoots resolved to real paths; empty means the working directory and the data directory. */
export function fileRoots(context: Pick<EngramContext, 'config' | 'paths'>, cwd = process.cwd()): string[] {
  const configured = context.config.ingest.fileRoots;
  const roots = configured.length > 0 ? configured.map((r) => resolve(cwd, r)) : [cwd, context.paths.dataDir];
  return roots.filter((r) => existsSync(r)).map((r) => realpathSync(r));
}

#!/usr/bin/env node
// Entry point of the engram command: runs the compiled CLI from dist/ (npm run setup builds it).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist/services/cli/main.js');
if (!existsSync(entry)) {
  process.stderr.write('engram: not built yet; run `npm run setup` (or `npm run build`) first\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
const code = await main(process.argv.slice(2));
// Let pending writes flush, then exit even if a stray handle (a timer, a socket) is left open.
process.exitCode = code;
setImmediate(() => process.exit(code));

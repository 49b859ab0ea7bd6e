// Child process for containment.test.ts: starts ffprobe on a source that never answers, prints
// the pids of its children, then exits the hard way (process.exit, as a second Ctrl-C does)
// without stopping the probe. Its ffprobe must not outlive it.
import { runningChildren } from '../../pipelines/repositories/children.js';
import { localFiles, probe } from '../../pipelines/repositories/media.js';
import { resolveSource } from '../../pipelines/ingest/source.js';

const spec = resolveSource(`tcp://127.0.0.1:${process.argv[2]}`, { allowedProtocols: ['tcp'], fileRoots: [], timeoutMs: 60_000, cwd: process.cwd(), files: localFiles });
void probe(spec, { timeoutMs: 60_000 }).catch(() => undefined);
setTimeout(() => {
  process.stdout.write(`${JSON.stringify(runningChildren())}\n`, () => process.exit(0));
}, 1_000);

// Child process for the two-worker test: one consolidate worker (the role as `engram worker
// consolidate` runs it) on the test's Redis and data directory, until SIGTERM. Logs JSON to stderr.
import { loadConfig } from '../../config/load.js';
import { Role } from '../../pipelines/jobs.js';
import { createLogger } from '../../services/logger.js';
import { EngramContext } from '../../services/runtime/context.js';
import { startRoles } from '../../services/runtime/roles.js';

const loaded = loadConfig();
const context = await EngramContext.open(loaded, createLogger(loaded.config, false, { worker: process.argv[2] ?? 'child' }));
const roles = await startRoles(context, [Role.Consolidate]);
process.on('SIGTERM', () => {
  void (async () => {
    await roles.close();
    await context.close();
    process.exit(0);
  })();
});
process.stdout.write('ready\n');

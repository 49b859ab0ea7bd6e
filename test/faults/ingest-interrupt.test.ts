// `engram ingest`'s first Ctrl-C works: whatever it is waiting for (ingest itself, or only later
// roles once the file is read), it stops the stream, prints what was processed and exits 130.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/load.js';
import type { IngestReport } from '../../services/cli/ingest.js';
import { ENGRAM_BIN, runCli } from '../helpers/cli.js';
import { useTestEnv } from '../helpers/env.js';
import { generateScenes } from '../helpers/fleet.js';

const env = useTestEnv();

describe('engram ingest and Ctrl-C', () => {
  it('stops the stream and reports on the first SIGINT', async () => {
    const clip = await generateScenes(env.dataDir, 'long', { segments: 12, segment: 10 });
    const childEnv = env.childEnv({ ENGRAM_PERCEIVE__OCR: 'false' });
    const child = spawn(process.execPath, [ENGRAM_BIN, 'ingest', clip, '--name', 'long', '--json'], { cwd: packageRoot(), env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (const deadline = Date.now() + 120_000; ; ) {
        const r = await runCli(['streams', 'list', '--json'], { env: childEnv, timeoutMs: 20_000 });
        if (r.code === 0 && (JSON.parse(r.stdout) as { chunks: number }[]).some((s) => s.chunks >= 5)) break;
        if (Date.now() > deadline) throw new Error(`the ingest did not get going: ${stderr}`);
        await sleep(200);
      }
      const sent = Date.now();
      child.kill('SIGINT');
      const code = await Promise.race([exited, sleep(15_000).then(() => 'still running')]);
      expect(code, stderr).toBe(130);
      expect(Date.now() - sent).toBeLessThan(15_000);
      const report = JSON.parse(stdout) as IngestReport;
      expect(report).toMatchObject({ stream: 'long', interrupted: true, state: 'stopped' });
      expect(report.durationS).toBeGreaterThan(0);
      expect(report.durationS).toBeLessThan(120);
      expect(stderr.trim().split('\n').pop()).toMatch(/^engram: interrupted: stream long is stopped/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 200_000);
});

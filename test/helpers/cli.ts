// Runs the built engram command as a user would (node bin/engram.js ...), capturing its output.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../config/load.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const ENGRAM_BIN = join(packageRoot(), 'bin/engram.js');

export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: Buffer } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENGRAM_BIN, ...args], { env: options.env ?? process.env, cwd: options.cwd ?? packageRoot(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (options.input) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/**
 * Ingests `file` as stream `name` through the CLI with the tiny test models (`env` must hold
 * testModelsEnv(), and so must the env of later queries), then waits until consolidation (which
 * finishes after `engram ingest` returns) has stored an event reaching `lastEnd` stream seconds,
 * polling `engram events` for at most `waitMs`.
 */
export async function ingestWithTestModels(file: string, name: string, options: { env: NodeJS.ProcessEnv; lastEnd: number; ingestTimeoutMs: number; waitMs: number }): Promise<void> {
  if (options.env.ENGRAM_MODELS__ALLOW_TEST_MODELS !== 'true') throw new Error('ingestWithTestModels: pass an env holding testModelsEnv() (test/helpers/test-models.ts)');
  const ingested = await runCli(['ingest', file, '--name', name, '--json'], { env: options.env, timeoutMs: options.ingestTimeoutMs });
  if (ingested.code !== 0) throw new Error(`engram ingest exited ${ingested.code}: ${ingested.stderr}`);
  const deadline = Date.now() + options.waitMs;
  while (Date.now() < deadline) {
    const events = await runCli(['events', '--stream', name, '--json'], { env: options.env });
    if (events.code === 0 && (JSON.parse(events.stdout) as { end: number }[]).some((e) => e.end >= options.lastEnd)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The fields of `engram query --json` that tests read. */
export interface QueryEvidence {
  eventId: string;
  stream: string;
  start: number;
  end: number;
  quote: string;
}
export interface QueryAnswer {
  question: string;
  answer: string;
  evidence: QueryEvidence[];
}

/** `engram query ARGS --json`, parsed; a non-zero exit throws with the command's stderr. */
export async function queryCli(env: NodeJS.ProcessEnv, args: string[]): Promise<QueryAnswer> {
  const r = await runCli(['query', ...args, '--json'], { env, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`engram query exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as QueryAnswer;
}

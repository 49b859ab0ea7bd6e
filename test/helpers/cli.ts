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

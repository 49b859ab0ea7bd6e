// The processes a given process started, read from /proc (Linux), so a test can see that no
// ffmpeg or ffprobe outlives what it was started for.
import { readdirSync, readFileSync } from 'node:fs';

export interface ChildInfo {
  pid: number;
  /** The executable's name as the kernel keeps it (at most 15 characters). */
  comm: string;
}

/** Live (not zombie) children of `parent`, optionally only those named `comm`. */
export function childrenOf(parent: number, comm?: string): ChildInfo[] {
  const out: ChildInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // pid (comm) state ppid ...; comm may itself contain spaces and parentheses.
    const close = stat.lastIndexOf(')');
    const name = stat.slice(stat.indexOf('(') + 1, close);
    const [state, ppid] = stat.slice(close + 2).split(' ');
    if (Number(ppid) !== parent || state === 'Z') continue;
    if (comm === undefined || name === comm) out.push({ pid: Number(entry), comm: name });
  }
  return out;
}

/** Whether a process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Waits until `fn` returns a non-empty list (or gives up after timeoutMs and returns the last one). */
export async function waitForChildren(fn: () => ChildInfo[], timeoutMs: number): Promise<ChildInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = fn();
    if (list.length > 0 || Date.now() > deadline) return list;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until none of `pids` runs; returns those still running at the deadline. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter(isRunning);
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

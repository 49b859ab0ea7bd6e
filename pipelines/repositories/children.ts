// The ffmpeg and ffprobe processes this process started and has not seen exit. Each owner kills
// its own on timeout, abort or stop; this list is the last line: when the process exits (a second
// Ctrl-C, a fatal error) every child still running is killed with it instead of living on as an
// orphan holding a socket or a camera.
import type { ChildProcess } from 'node:child_process';

const running = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Registers a freshly spawned child; it leaves the list when it exits. */
export function adoptChild(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (!hooked) {
    hooked = true;
    // 'exit' handlers run synchronously at the very end; kill() is synchronous, so it lands.
    process.on('exit', killAll);
  }
}

/** Children of this process still running (for status and tests). */
export function runningChildren(): number[] {
  return [...running].map((c) => c.pid).filter((pid): pid is number => pid !== undefined);
}

/** Registers the ffmpeg a fluent-ffmpeg command spawns, once it has started. */
export function adoptCommand(command: { on(event: 'start', listener: () => void): unknown }): void {
  command.on('start', () => {
    // fluent-ffmpeg keeps the process it spawned here before it emits 'start'.
    const proc = (command as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
    if (proc) adoptChild(proc);
  });
}

// A one-way byte channel from a child process into buffers this process chooses: a connected
// pair of unix sockets, one end for the child's stdio, the other read with net.Socket's `onread`.
// A stdio 'pipe' hands every read over in a new 64 KB Buffer, which ingest then copied into its
// frame: ~0.7 MB a keyframe allocated twice and copied once, and on that allocation rate the
// garbage collector walked the whole heap several times a second (test/bench/ingest.ts). Read
// this way, ffmpeg's bytes land in the frame itself.
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ReadTarget {
  /** Where the next read lands; never empty. Called before the first read and after each. */
  buffer(): Uint8Array;
  /** `n` bytes were read into `buffer`. False pauses reading (resume() on the socket goes on). */
  read(n: number, buffer: Uint8Array): boolean | void;
}

export interface ReadChannel {
  /** For the child's stdio entry; close it here (destroy()) once the child has been spawned. */
  childEnd: Socket;
  /** Ours: 'end' once the child's end is closed in every process, 'error' as any socket. */
  reader: Socket;
}

/** The longest the pair takes to connect before the caller falls back to a plain pipe. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Opens a channel through a listening socket that is closed again once the pair is connected:
 * in Linux's abstract namespace (nothing on disk, nothing left behind by a crash), elsewhere a
 * path in the temp directory, removed at once. Any local process can connect to an abstract
 * name it sees in /proc/net/unix, so the end handed to the child is the connection that sends
 * the reader's random token first: another one would otherwise be given the frames.
 */
export async function openReadChannel(target: ReadTarget): Promise<ReadChannel> {
  const id = `engram-${process.pid}-${randomUUID()}`;
  const token = randomBytes(16);
  const linux = process.platform === 'linux';
  const path = linux ? `\0${id}` : join(tmpdir(), `${id}.sock`);
  const server = createServer({ pauseOnConnect: true });
  let timer: NodeJS.Timeout | undefined;
  let reader: Socket | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    const accepted = new Promise<Socket>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('read channel: no connection')), CONNECT_TIMEOUT_MS);
      server.on('connection', (socket: Socket) => {
        let got = Buffer.alloc(0);
        socket.on('error', () => undefined);
        socket.on('data', (data: Buffer) => {
          got = Buffer.concat([got, data]);
          if (got.length < token.length) return;
          if (got.length === token.length && got.equals(token)) {
            // Nothing else comes this way; the child's end is only written to, by the child.
            socket.removeAllListeners('data');
            socket.pause();
            resolve(socket);
          } else socket.destroy();
        });
        socket.resume();
      });
    });
    reader = createConnection({ path, onread: { buffer: () => target.buffer(), callback: (n, buffer) => target.read(n, buffer) !== false } });
    reader.on('error', () => undefined);
    reader.write(token);
    return { childEnd: await accepted, reader };
  } catch (error) {
    reader?.destroy();
    throw error;
  } finally {
    clearTimeout(timer);
    server.close();
    if (!linux) rmSync(path, { force: true });
  }
}

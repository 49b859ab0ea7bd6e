// HTTP byte ranges (RFC 9110 14.1) for media files, so a browser's <video> can seek in a clip:
// one range per request (browsers ask for one; several would need multipart/byteranges).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';

export type ByteRange = { start: number; end: number };

/**
 * The range a Range header asks for in a body of `size` bytes: undefined to send it whole (no
 * header, another unit, several ranges), 'unsatisfiable' for a range that starts past the end.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // The last N bytes.
    const n = Number(last);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return undefined;
  return { start, end };
}

/** Sends a file-like body honouring Range: 200 whole, 206 partial, 416 past the end. */
export async function sendRanged(request: FastifyRequest, reply: FastifyReply, body: { size: number; contentType: string; read(range?: ByteRange): Promise<Readable> }): Promise<FastifyReply> {
  const range = parseRange(request.headers.range, body.size);
  reply.header('accept-ranges', 'bytes').type(body.contentType);
  if (range === 'unsatisfiable') return reply.status(416).header('content-range', `bytes */${body.size}`).send();
  if (!range) return reply.header('content-length', body.size).send(await body.read());
  return reply
    .status(206)
    .header('content-range', `bytes ${range.start}-${range.end}/${body.size}`)
    .header('content-length', range.end - range.start + 1)
    .send(await body.read(range));
}

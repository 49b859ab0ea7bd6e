// What can and cannot be ingested from a pipe (`engram ingest -`), decided from the first bytes
// alone. The head of stdin is buffered (ingest.stdinHeadBytes) so ffprobe can read it and ffmpeg
// still gets every byte; what the head shows to be undecodable is refused before ffmpeg starts.
import { SourceError } from '../records/source.js';

/** Said by a worker that picks up a stdin stream's job: only the command that added it can read its stdin. */
export function stdinOwnerGoneMessage(stream: string): string {
  return (
    `stream "${stream}" reads stdin ("-"), which only the "engram ingest -" command that adds the stream can read, ` +
    'and no such command holds it (it exited or was killed before the stream ended, or the stream was added some other way); ' +
    'pipe the media into "engram ingest -" again'
  );
}

export const STDIN_TERMINAL_MESSAGE = 'stdin is a terminal, not media: pipe a file or a stream into it (e.g. `cat clip.ts | engram ingest -`)';

/**
 * Walks the top-level boxes of an ISO-BMFF (MP4/MOV) head. Returns 'moov-first' when the index
 * comes before the media data, 'mdat-first' when the media data comes first (ffmpeg would have to
 * seek back to it, which a pipe cannot do), undefined when the head is not ISO-BMFF or ends before
 * either box is seen.
 */
export function mp4IndexPosition(head: Uint8Array): 'moov-first' | 'mdat-first' | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const type = (at: number) => String.fromCharCode(head[at + 4] ?? 0, head[at + 5] ?? 0, head[at + 6] ?? 0, head[at + 7] ?? 0);
  if (head.length < 8 || type(0) !== 'ftyp') return undefined;
  let at = 0;
  while (at + 8 <= head.length) {
    const box = type(at);
    if (box === 'moov' || box === 'moof') return 'moov-first';
    if (box === 'mdat') return 'mdat-first';
    let size = view.getUint32(at);
    if (size === 1) {
      if (at + 16 > head.length) return undefined;
      size = Number(view.getBigUint64(at + 8));
    } else if (size === 0) {
      return undefined; // "to the end of the file": nothing follows it
    }
    if (size < 8) return undefined;
    at += size;
  }
  return undefined;
}

/** Refuses a stdin head that can never decode: nothing at all, or an MP4 whose index is at its end. */
export function checkStdinHead(head: Uint8Array): void {
  if (head.length === 0) throw new SourceError('stdin: no data (zero bytes were piped in)');
  if (mp4IndexPosition(head) === 'mdat-first') {
    throw new SourceError(
      'stdin: this MP4/MOV has its index (moov atom) at the end, so it cannot be decoded from a pipe; ' +
        'give the file path instead, or remux it for streaming (`ffmpeg -i IN -c copy -movflags +faststart OUT.mp4`, or `-f mpegts -` to pipe MPEG-TS)',
    );
  }
}

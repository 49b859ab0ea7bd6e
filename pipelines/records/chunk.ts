// The unit ingest hands to perception: one chunk of stream time with its keyframes and audio, and
// the binary encoding it travels in through Redis (one value per chunk, no base64, no JSON arrays).

export interface Keyframe {
  /** Stream seconds. */
  t: number;
  width: number;
  height: number;
  /** RGB24, long side <= ingest.frameMaxSide, even dimensions. */
  rgb: Uint8Array;
  /** JPEG thumbnail, ingest.thumbnailWidth wide. */
  jpeg: Buffer;
  /** True when the frame was kept because of a scene cut rather than the regular rate. */
  scene: boolean;
}

export interface Gap {
  /** Stream seconds. */
  from: number;
  to: number;
  /** Epoch milliseconds. */
  wallFrom: number;
  wallTo: number;
}

export interface Chunk {
  stream: string;
  seq: number;
  /** Stream seconds from the media timestamps: [start, end). */
  start: number;
  end: number;
  /** Epoch milliseconds of `start`. */
  wallStart: number;
  keyframes: Keyframe[];
  /** 16 kHz mono covering [start, end); null for a source without audio. */
  audio: Float32Array | null;
  /** Keyframes dropped from this chunk because perception fell behind (live sources only). */
  droppedKeyframes: number;
  /** Set on the first chunk after a gap (a reconnect, a takeover of a live stream). */
  gapBefore?: Gap;
  /** The last chunk of a finite source. */
  final?: boolean;
}

export const AUDIO_RATE = 16_000;

interface Header {
  stream: string;
  seq: number;
  start: number;
  end: number;
  wallStart: number;
  droppedKeyframes: number;
  gapBefore?: Gap;
  final?: boolean;
  keyframes: { t: number; width: number; height: number; scene: boolean; rgb: number; jpeg: number }[];
  /** Audio byte length, -1 for none. */
  audio: number;
}

/** Layout: u32 header length, header JSON, then each keyframe's rgb and jpeg, then f32le audio. */
export function encodeChunk(chunk: Chunk): Buffer {
  return Buffer.concat(encodeChunkParts(chunk));
}

/**
 * encodeChunk's bytes as the parts they are made of, in order, without copying the frames: a
 * writer that sends them one after the other (ChunkStore.write) spares a ~0.7 MB copy per frame.
 */
export function encodeChunkParts(chunk: Chunk): Buffer[] {
  const header: Header = {
    stream: chunk.stream,
    seq: chunk.seq,
    start: chunk.start,
    end: chunk.end,
    wallStart: chunk.wallStart,
    droppedKeyframes: chunk.droppedKeyframes,
    keyframes: chunk.keyframes.map((k) => ({ t: k.t, width: k.width, height: k.height, scene: k.scene, rgb: k.rgb.byteLength, jpeg: k.jpeg.byteLength })),
    audio: chunk.audio ? chunk.audio.byteLength : -1,
  };
  if (chunk.gapBefore) header.gapBefore = chunk.gapBefore;
  if (chunk.final) header.final = true;
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(4 + json.byteLength);
  head.writeUInt32LE(json.byteLength, 0);
  json.copy(head, 4);
  const view = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const parts: Buffer[] = [head];
  for (const k of chunk.keyframes) parts.push(view(k.rgb), view(k.jpeg));
  if (chunk.audio) parts.push(view(chunk.audio));
  return parts.filter((part, i) => i === 0 || part.byteLength > 0);
}

export function decodeChunk(bytes: Buffer): Chunk {
  const length = bytes.readUInt32LE(0);
  const header = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as Header;
  let at = 4 + length;
  const take = (n: number) => {
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  // Views into the value, not copies: a keyframe is ~0.7 MB and readers only read it.
  const keyframes: Keyframe[] = header.keyframes.map((k) => {
    const rgb = take(k.rgb);
    return { t: k.t, width: k.width, height: k.height, scene: k.scene, rgb: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength), jpeg: take(k.jpeg) };
  });
  let audio: Float32Array | null = null;
  if (header.audio >= 0) {
    // Copy: the audio's offset inside the value is not 4-byte aligned in general.
    const raw = take(header.audio);
    audio = new Float32Array(raw.byteLength / 4);
    new Uint8Array(audio.buffer).set(raw);
  }
  const chunk: Chunk = { stream: header.stream, seq: header.seq, start: header.start, end: header.end, wallStart: header.wallStart, keyframes, audio, droppedKeyframes: header.droppedKeyframes };
  if (header.gapBefore) chunk.gapBefore = header.gapBefore;
  if (header.final) chunk.final = true;
  return chunk;
}

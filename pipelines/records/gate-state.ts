// Per-stream gating state: the stream's running background and, for each gated model, the small
// grey picture it last ran on and what it found there. A keyframe whose picture has not changed
// since a model's last run carries that result forward instead of running the model again. It
// lives in Redis (pipelines/repositories/gate-store.ts) because a stream's chunks may be perceived
// by any perceive worker on any host: a restart or a takeover finds the state where it was.
import { decodeJson, encodeJson } from './perception.js';

/** What one gated model last saw and found on a stream. */
export interface GateMark<R = unknown> {
  /** Stream seconds of the keyframe the model last ran on. */
  t: number;
  /** The small grey copy of that keyframe (change-signal.ts's size). */
  grey: Uint8Array;
  width: number;
  height: number;
  /** The model's result on that keyframe, carried to keyframes that skip it. */
  result: R;
}

/** The stream's running background average, for the change signal recorded with each keyframe. */
export interface GateBackground {
  /** Stream seconds of the last keyframe folded in. */
  t: number;
  mean: Float32Array;
  width: number;
  height: number;
}

export interface GateState {
  background?: GateBackground;
  /** By gate name: 'detect', 'ocr', 'image:<space>'. */
  marks: Record<string, GateMark>;
}

/** One field of the state to write; the store keeps it only if it is newer (stream time) than what it holds. */
export interface GateWrite {
  field: string;
  t: number;
  value: string;
}

export const BACKGROUND_FIELD = 'background';

export function encodeGateValue(value: GateMark | GateBackground): string {
  return encodeJson(value);
}

/** Decodes the store's fields into a state; a field that does not decode is dropped (the model then simply runs). */
export function decodeGateState(fields: Record<string, string>): GateState {
  const state: GateState = { marks: {} };
  for (const [field, text] of Object.entries(fields)) {
    let value: unknown;
    try {
      value = decodeJson<unknown>(text);
    } catch {
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (field === BACKGROUND_FIELD) {
      const b = value as GateBackground;
      if (b.mean instanceof Float32Array && b.mean.length === b.width * b.height) state.background = b;
    } else {
      const m = value as GateMark;
      if (m.grey instanceof Uint8Array && m.grey.length === m.width * m.height && typeof m.t === 'number') state.marks[field] = m;
    }
  }
  return state;
}

/** Where the gating state of a stream is kept (GateStore in Redis; a Map in unit tests). */
export interface GateMarks {
  loadGate(stream: string): Promise<GateState>;
  saveGate(stream: string, writes: GateWrite[]): Promise<void>;
}

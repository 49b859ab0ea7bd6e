// Per-stream gate state in a Map with the Redis store's rule (a field is written only forward in
// stream time), through the real encoding: perceive tests that need no Redis.
import { decodeGateState, type GateMarks, type GateState, type GateWrite } from '../../pipelines/records/gate-state.js';

/** The Redis store's rule (a field is written only forward in stream time), over a Map, through the real encoding. */
export class MemoryGates implements GateMarks {
  readonly fields = new Map<string, { t: number; value: string }>();
  async loadGate(): Promise<GateState> {
    return decodeGateState(Object.fromEntries([...this.fields].map(([k, v]) => [k, v.value])));
  }
  async saveGate(_stream: string, writes: GateWrite[]): Promise<void> {
    for (const w of writes) {
      const held = this.fields.get(w.field);
      if (!held || held.t < w.t) this.fields.set(w.field, { t: w.t, value: w.value });
    }
  }
}

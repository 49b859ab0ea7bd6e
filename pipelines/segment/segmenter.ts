// Event segmentation of one stream, as pure logic over perception records: boundaries come from
// surprise (EM-LLM: the distance of a new vector from the running event against an adaptive
// threshold mean + gamma * std of recent distances, in every vector space present), speech onset
// and silence, and a change of on-screen text. Candidates are held until later evidence can no
// longer compete with them (a few seconds), merged when close, refined by a graph cut, and kept
// only when the event they close is at least the minimum length. All state is in SegmenterState.
import type { SegmentOptions } from '../../config/schema.js';
import type { ClosedEvent, Detection } from '../records/event.js';
import { SIGNATURE_SPACE, type PerceptionRecord } from '../records/perception.js';
import { buildEvent } from './close-event.js';
import { observePresence, presentLabels, unsettledSince } from './presence.js';
import { initialTracker, knownTracks, track } from './tracker.js';
import { refineBoundary } from './refine.js';
import { BoundaryReason, initialState, type BufferedKeyframe, type Candidate, type SegmenterState, type SpaceTrack } from '../records/segmenter-state.js';
import { distance, medianAndSpread, toF32, toF32Set } from '../vectors.js';

/** Fixed strengths of the non-surprise candidates, on the surprise scale (1 = at the threshold). */
const STRENGTH = {
  // Someone or something arriving or leaving is what a camera's user asks about: it wins over a
  // weaker picture change nearby, while a strong cut (surprise well past its threshold) still can.
  [BoundaryReason.Presence]: 2,
  [BoundaryReason.Text]: 1.5,
  [BoundaryReason.Speech]: 1.2,
  [BoundaryReason.Silence]: 1.0,
} as const;

/** Two VAD spans closer than this are one utterance (a breath, a chunk edge). */
const SPEECH_JOIN_SECONDS = 0.3;

/** A jump in stream time bigger than this between consecutive records is a gap. */
const GAP_TOLERANCE_SECONDS = 1.0;

export interface PushOptions {
  /** The records before this one are missing (a sequence number never arrived). */
  missingBefore?: boolean;
  /** Wall-clock ms now, for idle tracking; defaults to Date.now(). */
  now?: number;
}

export class Segmenter {
  readonly options: SegmentOptions;
  state: SegmenterState;

  constructor(options: SegmentOptions, state: SegmenterState | string) {
    this.options = options;
    this.state = typeof state === 'string' ? initialState(state) : state;
  }

  /** Consumes one record (the caller hands them in sequence order) and returns the events it closed. */
  push(record: PerceptionRecord, pushOptions: PushOptions = {}): ClosedEvent[] {
    const s = this.state;
    const out: ClosedEvent[] = [];
    s.nextSeq = record.seq + 1;
    s.lastConsumedAt = pushOptions.now ?? Date.now();

    const jumped = s.reached !== null && record.start - s.reached > GAP_TOLERANCE_SECONDS;
    const gap = record.gapBefore > 0 || pushOptions.missingBefore === true || jumped;
    if (gap && s.open) out.push(...this.#finish(BoundaryReason.Gap));
    if (s.ended) {
      // A finite stream that continues (re-ingested, resumed): start afresh.
      s.ended = false;
    }
    if (!s.open) {
      s.open = { start: record.start, startedAt: record.wallStart, gapBefore: gap, previousMeans: null };
      s.anchors = [];
      if (s.reached === null || gap) s.voice = { audioSince: null, lastSpeechEnd: null, silenceRaised: false };
    }
    s.anchors.push([record.start, record.wallStart]);

    if (record.audio) this.#audio(record);
    for (const keyframe of [...record.keyframes].sort((a, b) => a.t - b.t)) this.#keyframe(keyframe);
    s.reached = Math.max(s.reached ?? record.end, record.end);
    if (record.audio) this.#silenceCheck();

    out.push(...this.#commit(false));
    out.push(...this.#maxLength());
    if (record.final) {
      out.push(...this.#finish(BoundaryReason.EndOfStream));
      s.ended = true;
    }
    return out;
  }

  /**
   * The stream ended, but its last records (up to sequence `nextSeq`) were lost: closes what is
   * open where the media reached, as the final record would have.
   */
  endAfterLoss(nextSeq: number): ClosedEvent[] {
    const s = this.state;
    s.nextSeq = Math.max(s.nextSeq, nextSeq);
    const out = s.open ? this.#finish(BoundaryReason.EndOfStream) : [];
    s.ended = true;
    return out;
  }

  /** Closes the open event because the live stream went quiet (no records for idleCloseSeconds). */
  closeIdle(): ClosedEvent[] {
    if (!this.state.open) return [];
    return this.#finish(BoundaryReason.Idle);
  }

  /** True when a live stream's open event should be closed for idleness at wall time `now`. */
  isIdle(now: number): boolean {
    const s = this.state;
    return s.open !== null && s.lastConsumedAt !== null && now - s.lastConsumedAt >= this.options.idleCloseSeconds * 1000;
  }

  // ---- observations -------------------------------------------------------------------------

  #keyframe(keyframe: PerceptionRecord['keyframes'][number]): void {
    const s = this.state;
    const vectors: Record<string, Float32Array> = {};
    for (const [space, v] of Object.entries(keyframe.vectors)) vectors[space] = toF32(v);
    const signature = toF32(keyframe.signature);
    if (signature.length > 0 && !vectors[SIGNATURE_SPACE]) vectors[SIGNATURE_SPACE] = signature;
    const motion = s.previousSignature && signature.length > 0 ? distance(signature, s.previousSignature) : null;
    if (signature.length > 0) s.previousSignature = signature;

    this.#run('image', keyframe.t, this.#surprise('image', vectors));

    if (keyframe.ocr !== null) {
      const tokens = textTokens(keyframe.ocr.filter((line) => (line.confidence ?? 1) >= this.options.textMinConfidence).map((line) => line.text));
      if (s.textTokens !== null) {
        const union = new Set([...s.textTokens, ...tokens]);
        if (union.size > 0 && jaccard(s.textTokens, tokens) < this.options.textChangeJaccard) {
          this.#candidate({ t: keyframe.t, reason: BoundaryReason.Text, strength: STRENGTH[BoundaryReason.Text] });
        }
      }
      s.textTokens = tokens;
      for (const line of keyframe.ocr) {
        // Low-confidence and one-character reads are mostly texture taken for letters.
        if (line.text.trim().length < 2 || (line.confidence ?? 1) < this.options.textMinConfidence) continue;
        if (!s.ocr.some((seen) => seen.text === line.text)) s.ocr.push({ ...line, t: keyframe.t });
      }
    }
    const buffered: BufferedKeyframe = { t: keyframe.t, vectors, thumbnail: keyframe.thumbnail, motion };
    if (Array.isArray(keyframe.detections)) this.#objects(keyframe.t, keyframe.detections, buffered);
    if (Array.isArray(keyframe.faces)) buffered.faces = keyframe.faces;
    s.keyframes.push(buffered);
  }

  /** Tracks a keyframe's detections and raises a boundary candidate where a label came or went. */
  #objects(t: number, detections: Detection[], buffered: BufferedKeyframe): void {
    const s = this.state;
    s.objects ??= { tracker: initialTracker(), presence: {}, since: t };
    buffered.detections = track(s.objects.tracker, t, detections, this.options.tracks);
    const changes = observePresence(s.objects.presence, t, new Set(detections.map((d) => d.label)), this.options.presence);
    buffered.present = presentLabels(s.objects.presence);
    for (const change of changes) this.#candidate({ t: change.t, reason: BoundaryReason.Presence, strength: STRENGTH[BoundaryReason.Presence], arrival: change.kind === 'enter' });
  }

  #audio(record: PerceptionRecord): void {
    const s = this.state;
    const audio = record.audio;
    if (!audio) return;
    s.voice.audioSince ??= record.start;
    for (let i = 0; i < audio.levels.length; i += 1) {
      s.levelT.push(audio.levelsStart + i * audio.levelWindow);
      s.levelDb.push(Math.max(-120, audio.levels[i] as number));
    }
    for (const window of audio.windows) {
      const vectors: Record<string, Float32Array> = {};
      for (const [space, v] of Object.entries(window.vectors)) vectors[space] = toF32(v);
      this.#run('audio', window.t, this.#surprise('audio', vectors));
      s.audioWindows.push({ t: window.t, vectors });
    }
    for (const span of [...audio.speech].sort((a, b) => a.start - b.start)) {
      const last = s.voice.lastSpeechEnd;
      if (last !== null && span.start - last <= SPEECH_JOIN_SECONDS) {
        s.voice.lastSpeechEnd = Math.max(last, span.end);
        const tail = s.speech[s.speech.length - 1];
        if (tail) tail.end = Math.max(tail.end, span.end);
        else s.speech.push({ ...span });
        continue;
      }
      const quietFor = span.start - (last ?? s.voice.audioSince ?? span.start);
      if (quietFor >= this.options.silenceSeconds) {
        this.#candidate({ t: span.start, reason: BoundaryReason.Speech, strength: STRENGTH[BoundaryReason.Speech] });
      }
      s.voice.lastSpeechEnd = span.end;
      s.voice.silenceRaised = false;
      s.speech.push({ ...span });
    }
    for (const span of audio.transcript) s.transcript.push({ ...span });
  }

  /** After a record: speech that stopped speechEndSeconds ago ends a conversation at its last word. */
  #silenceCheck(): void {
    const s = this.state;
    const last = s.voice.lastSpeechEnd;
    if (last === null || s.voice.silenceRaised || s.reached === null) return;
    if (s.reached - last >= this.options.speechEndSeconds) {
      s.voice.silenceRaised = true;
      this.#candidate({ t: last, reason: BoundaryReason.Silence, strength: STRENGTH[BoundaryReason.Silence] });
    }
  }

  /**
   * Surprise of one observation in each space of one modality against that modality's running
   * event; returns the strongest (z / gamma, >= 1 when it fires) or 0, and restarts the running
   * event at this observation when it fires.
   */
  #surprise(modality: 'image' | 'audio', vectors: Record<string, Float32Array>): number {
    const s = this.state;
    const o = this.options;
    let strongest = 0;
    const keys: string[] = [];
    for (const [space, v] of Object.entries(vectors)) {
      const key = `${modality}:${space}`;
      keys.push(key);
      let track: SpaceTrack | undefined = s.tracks[key];
      if (!track || track.sum.length !== v.length) {
        track = { sum: new Float32Array(v.length), count: 0, history: [] };
        s.tracks[key] = track;
      }
      if (track.count === 0) continue;
      const mean = new Float32Array(v.length);
      for (let i = 0; i < v.length; i += 1) mean[i] = (track.sum[i] as number) / track.count;
      const d = distance(v, mean);
      if (track.history.length >= o.warmup) {
        // Median and MAD rather than mean and std: one passing car's own large distances would
        // otherwise inflate the threshold and hide the next car for the length of the history.
        const { median: mu, spread: robust } = medianAndSpread(track.history);
        const spread = Math.max(robust, o.minSpread);
        const threshold = mu + o.gamma * spread;
        if (d > threshold && d > o.minDistance) strongest = Math.max(strongest, (d - mu) / spread / o.gamma);
      }
      track.history.push(d);
      if (track.history.length > o.historySize) track.history.splice(0, track.history.length - o.historySize);
    }
    for (const key of keys) {
      const track = s.tracks[key] as SpaceTrack;
      const v = vectors[key.slice(modality.length + 1)] as Float32Array;
      if (strongest > 0) {
        // The surprising observation starts the new running event.
        track.sum = Float32Array.from(v);
        track.count = 1;
      } else {
        for (let i = 0; i < v.length; i += 1) track.sum[i] = (track.sum[i] as number) + (v[i] as number);
        track.count += 1;
      }
    }
    return strongest;
  }

  /**
   * Groups surprising observations into runs: consecutive surprise (no calmer gap longer than
   * mergeSeconds) is one transition or one stretch of activity, such as a car crossing the view.
   * A run proposes a boundary where it starts (at once) and, when it lasts at least the minimum event
   * length, where it ends (the first frame after the activity is still far from the moving
   * frames before it, so the last surprising frame is where calm returns).
   */
  #run(modality: 'image' | 'audio', t: number, surprise: number): void {
    const s = this.state;
    const run = s.runs[modality];
    if (surprise > 0) {
      if (run && t - run.last <= this.options.mergeSeconds) {
        run.last = t;
        if (surprise > run.peak) {
          run.peak = surprise;
          run.peakT = t;
        }
        return;
      }
      this.#endRun(modality);
      s.runs[modality] = { start: t, last: t, peak: surprise, peakT: t };
      this.#candidate({ t, reason: BoundaryReason.Surprise, strength: surprise });
    } else if (run && t - run.last > this.options.mergeSeconds) {
      this.#endRun(modality);
    }
  }

  #endRun(modality: 'image' | 'audio'): void {
    const s = this.state;
    const run = s.runs[modality];
    if (!run) return;
    s.runs[modality] = null;
    if (run.last - run.start >= this.options.minEventSeconds) {
      this.#candidate({ t: run.last, reason: BoundaryReason.Surprise, strength: run.peak });
    } else if (run.peakT !== run.start) {
      // A short run is one transition: its boundary is its strongest frame (the cut), not
      // a small flicker just before it.
      const start = s.pending.find((c) => c.reason === BoundaryReason.Surprise && c.t === run.start);
      if (start) {
        start.t = run.peakT;
        start.strength = run.peak;
        s.pending.sort((a, b) => a.t - b.t);
      }
    }
  }

  #candidate(candidate: Candidate): void {
    const s = this.state;
    if (!s.open || candidate.t <= s.open.start) return;
    s.pending.push(candidate);
    s.pending.sort((a, b) => a.t - b.t);
  }

  // ---- decisions ----------------------------------------------------------------------------

  /**
   * Whether the cluster of candidates starting at `t` can be decided now: every candidate that
   * could still join it (or precede it) must have had its chance to appear. Visual ones appear
   * when their run of surprise ends; a silence candidate appears speechEndSeconds after the last
   * word, at the last word.
   */
  #decidable(t: number): boolean {
    const s = this.state;
    const o = this.options;
    const horizon = t + o.mergeSeconds;
    if ((s.reached ?? 0) < horizon + 1) return false;
    for (const run of [s.runs.image, s.runs.audio]) if (run && run.start <= horizon) return false;
    const last = s.voice.lastSpeechEnd;
    if (last !== null && !s.voice.silenceRaised && last <= horizon) return false;
    // A label's arrival or departure not yet confirmed would be dated back to here.
    const unsettled = s.objects ? unsettledSince(s.objects.presence) : null;
    if (unsettled !== null && unsettled <= horizon) return false;
    return true;
  }

  /** Decides settled candidates (all of them when `flush`), closing events at chosen boundaries. */
  #commit(flush: boolean): ClosedEvent[] {
    const s = this.state;
    const o = this.options;
    const out: ClosedEvent[] = [];
    while (s.open && s.pending.length > 0) {
      const first = s.pending[0] as Candidate;
      if (!flush && !this.#decidable(first.t)) break;
      const cluster = s.pending.filter((c) => c.t <= first.t + o.mergeSeconds);
      s.pending = s.pending.filter((c) => c.t > first.t + o.mergeSeconds);
      const open = s.open;
      const eligible = cluster.filter((c) => c.t - open.start >= o.minEventSeconds);
      if (eligible.length === 0) continue;
      // A label arriving or leaving is dated at the keyframe it happened on; a picture change
      // within mergeSeconds of it is the same moment seen coarsely, so the presence time wins:
      // the first arrival (the event starts when the first object does), else the last departure
      // (the event ends when the last object has gone).
      const presence = eligible.filter((c) => c.reason === BoundaryReason.Presence);
      const arrivals = presence.filter((c) => c.arrival === true);
      const best =
        arrivals[0] ??
        presence[presence.length - 1] ??
        eligible.reduce((a, b) => (b.strength > a.strength ? b : a));
      let at = best.t;
      // Only a visual boundary is refined on the picture graph: a text or speech boundary can fall
      // where the picture does not change at all.
      if (best.reason === BoundaryReason.Surprise) {
        // The graph is the stretch this boundary divides: from the open event's start to the next
        // waiting boundary, so the two-way split it scores is "this event | the next one".
        const until = s.pending[0]?.t ?? Infinity;
        const nodes = s.keyframes.filter((k) => k.t >= open.start && k.t < until);
        at = refineBoundary(nodes, at, {
          method: o.refine,
          radius: Math.min(o.refineSeconds, o.mergeSeconds + 0.5),
          lo: open.start + o.minEventSeconds,
          hi: Math.min(until, s.reached ?? at),
        });
      }
      out.push(this.#closeAt(at, best.reason));
    }
    return out;
  }

  #maxLength(): ClosedEvent[] {
    const s = this.state;
    const o = this.options;
    const out: ClosedEvent[] = [];
    while (s.open && s.reached !== null && s.reached - s.open.start >= o.maxEventSeconds) {
      const open = s.open;
      const limit = open.start + o.maxEventSeconds;
      // Prefer a real boundary that is waiting inside the allowed length.
      const inside = s.pending.filter((c) => c.t <= limit && c.t - open.start >= o.minEventSeconds);
      if (inside.length > 0) {
        const best = inside.reduce((a, b) => (b.strength > a.strength ? b : a));
        s.pending = s.pending.filter((c) => c.t > best.t);
        out.push(this.#closeAt(best.t, best.reason));
        continue;
      }
      const cut = limit;
      s.pending = s.pending.filter((c) => c.t > cut);
      out.push(this.#closeAt(cut, BoundaryReason.MaxLength));
    }
    return out;
  }

  /** Decides everything pending, then closes the open event where the media reached. */
  #finish(reason: BoundaryReason): ClosedEvent[] {
    const s = this.state;
    this.#endRun('image');
    this.#endRun('audio');
    const out = this.#commit(true);
    out.push(...this.#maxLength());
    if (s.open) {
      const end = Math.max(s.reached ?? s.open.start, s.open.start);
      out.push(this.#closeAt(end, reason, true));
    }
    return out;
  }

  /** Closes [open.start, at) as an event and opens the next at `at` (unless `last`). */
  #closeAt(at: number, reason: BoundaryReason, last = false): ClosedEvent {
    const s = this.state;
    const open = s.open;
    if (!open) throw new Error('segmenter: no open event to close');
    const wallAt = this.#wallAt(at);
    const take = <T extends { t: number }>(items: T[]): T[] => {
      const before = items.filter((item) => item.t < at || last);
      const after = items.filter((item) => !(item.t < at || last));
      items.length = 0;
      items.push(...after);
      return before;
    };
    const keyframes = take(s.keyframes);
    const audioWindows = take(s.audioWindows);
    const ocr = take(s.ocr);
    const transcript = s.transcript.filter((span) => last || (span.start + span.end) / 2 < at);
    s.transcript = s.transcript.filter((span) => !(last || (span.start + span.end) / 2 < at));
    const speech = [];
    const keepSpeech = [];
    for (const span of s.speech) {
      if (last || span.end <= at) speech.push(span);
      else if (span.start >= at) keepSpeech.push(span);
      else {
        speech.push({ start: span.start, end: at });
        keepSpeech.push({ start: at, end: span.end });
      }
    }
    s.speech = keepSpeech;
    const levelKeep = s.levelT.map((t) => !(last || t < at));
    const levels = s.levelDb.filter((_db, i) => !levelKeep[i]);
    s.levelT = s.levelT.filter((_t, i) => levelKeep[i]);
    s.levelDb = s.levelDb.filter((_db, i) => levelKeep[i]);

    const event = buildEvent(
      {
        stream: s.stream,
        start: open.start,
        end: Math.max(at, open.start),
        startedAt: open.startedAt,
        endedAt: Math.max(wallAt, open.startedAt),
        keyframes,
        audioWindows,
        levels,
        speech,
        transcript,
        ocr,
        gapBefore: open.gapBefore,
        previousMeans: open.previousMeans,
        closedBy: reason,
        tracks: s.objects ? knownTracks(s.objects.tracker) : new Map(),
        seenUntil: Math.max(...keyframes.map((k) => k.t), ...s.keyframes.map((k) => k.t)),
        ...(s.objects?.since !== undefined ? { watchedSince: s.objects.since } : {}),
      },
      this.options,
    );
    // Tracks that ended before this boundary have been reported for the last time.
    if (s.objects) s.objects.tracker.ended = s.objects.tracker.ended.filter((tr) => tr.last >= at && !last);
    s.eventsClosed += 1;
    if (last) {
      s.open = null;
      s.pending = [];
    } else {
      s.open = { start: at, startedAt: wallAt, gapBefore: false, previousMeans: toF32Set(event.vectors) };
      s.anchors = s.anchors.filter(([t], i, all) => t >= at || (all[i + 1]?.[0] ?? Infinity) > at);
    }
    return event;
  }

  #wallAt(t: number): number {
    let anchor: [number, number] | undefined;
    for (const a of this.state.anchors) if (a[0] <= t) anchor = a;
    anchor ??= this.state.anchors[0];
    if (!anchor) return this.state.open?.startedAt ?? 0;
    return Math.round(anchor[1] + (t - anchor[0]) * 1000);
  }
}

/**
 * Words of on-screen text for comparison: lower case, letters only. Tokens with digits are
 * dropped because camera overlays carry clocks and counters that change every second.
 */
export function textTokens(lines: readonly string[]): string[] {
  const words = new Set<string>();
  for (const line of lines) {
    for (const raw of line.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
      if (raw.length < 2 || /\d/.test(raw)) continue;
      words.add(raw);
    }
  }
  return [...words].sort();
}

export function jaccard(a: readonly string[], b: readonly string[]): number {
  const sa = new Set(a);
  const sb = new Set(b);
  if (sa.size === 0 && sb.size === 0) return 1;
  let both = 0;
  for (const w of sa) if (sb.has(w)) both += 1;
  return both / (sa.size + sb.size - both);
}

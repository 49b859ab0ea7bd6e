// Whisper greedy decoding with timestamps over 30 s windows: encoder once per window, then the
// decoder (no key/value cache: the prefix is recomputed each step) until <|endoftext|>. Timestamp
// tokens pair up around text; a segment is the text between two of them.
import type * as ortTypes from 'onnxruntime-node';
import type { Tokenizer } from './tokenizer.js';
import { ort } from './session.js';
import { throwIfAborted } from './errors.js';
import { whisperFeatures, type MelSpec } from '../preprocess/mel.js';

export interface Segment {
  start: number;
  end: number;
  text: string;
}

export interface WhisperParts {
  encoder: ortTypes.InferenceSession;
  decoder: ortTypes.InferenceSession;
  tokenizer: Tokenizer;
  mel: MelSpec;
  language: string;
  maxNewTokens: number;
}

function special(tokenizer: Tokenizer, token: string): number {
  const id = tokenizer.token_to_id(token);
  if (id === undefined) throw new Error(`whisper tokenizer has no ${token}`);
  return id;
}

/**
 * Greedy choice under Whisper's timestamp rules (as in openai/whisper's ApplyTimestampRules): the
 * first token is a timestamp; timestamps come in pairs and never go back; when timestamps together
 * are likelier than any single text token, a timestamp is taken.
 */
export function pickToken(logits: Float32Array, sampled: number[], t: { tsBegin: number; eot: number; noTimestamps: number }): number {
  const allowed = (v: number) => {
    if (v === t.noTimestamps) return false;
    const isTs = v >= t.tsBegin;
    const n = sampled.length;
    if (n === 0) return isTs;
    const last = (sampled[n - 1] as number) >= t.tsBegin;
    const penultimate = n < 2 || (sampled[n - 2] as number) >= t.tsBegin;
    if (last && penultimate && isTs) return false; // a pair just closed: text (or the end) comes next
    if (last && !penultimate && !isTs && v !== t.eot) return false; // a segment just ended: another timestamp or the end
    if (isTs) {
      let lastTs = -1;
      for (const s of sampled) if (s >= t.tsBegin) lastTs = s;
      // a new segment may open where the last closed; a closing timestamp must come after its opening
      if (lastTs >= 0 && v < (last && !penultimate ? lastTs : lastTs + 1)) return false;
    }
    return true;
  };
  let bestText = -1;
  let bestTs = -1;
  let tsMax = -Infinity;
  for (let v = 0; v < logits.length; v += 1) {
    if (!allowed(v)) continue;
    const x = logits[v] as number;
    if (v >= t.tsBegin) {
      if (bestTs < 0 || x > (logits[bestTs] as number)) bestTs = v;
      if (x > tsMax) tsMax = x;
    } else if (bestText < 0 || x > (logits[bestText] as number)) bestText = v;
  }
  if (bestTs < 0) return bestText < 0 ? t.eot : bestText;
  if (bestText < 0) return bestTs;
  let sum = 0;
  for (let v = t.tsBegin; v < logits.length; v += 1) if (allowed(v)) sum += Math.exp((logits[v] as number) - tsMax);
  return tsMax + Math.log(sum) > (logits[bestText] as number) ? bestTs : bestText;
}

export async function transcribeWhisper(parts: WhisperParts, pcm16k: Float32Array, signal?: AbortSignal): Promise<Segment[]> {
  const { tokenizer, mel } = parts;
  const sot = special(tokenizer, '<|startoftranscript|>');
  const eot = special(tokenizer, '<|endoftext|>');
  const lang = special(tokenizer, parts.language);
  const task = special(tokenizer, '<|transcribe|>');
  const noTimestamps = special(tokenizer, '<|notimestamps|>');
  // Older exported tokenizers lack the timestamp tokens; in every Whisper vocabulary they start right after <|notimestamps|>.
  const tsBegin = tokenizer.token_to_id('<|0.00|>') ?? noTimestamps + 1;
  const windowSamples = mel.frames * mel.hop;
  const segments: Segment[] = [];
  for (let offset = 0; offset < pcm16k.length; offset += windowSamples) {
    throwIfAborted(signal);
    const base = offset / mel.sampleRate;
    const features = whisperFeatures(pcm16k.subarray(offset, offset + windowSamples), mel);
    const enc = await parts.encoder.run({ input_features: new ort.Tensor('float32', features, [1, mel.nMels, mel.frames]) });
    const hidden = enc.last_hidden_state as ortTypes.Tensor;
    const ids = [sot, lang, task];
    for (let step = 0; step < parts.maxNewTokens; step += 1) {
      throwIfAborted(signal);
      const out = await parts.decoder.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]),
        encoder_hidden_states: hidden,
      });
      const logits = out.logits as ortTypes.Tensor;
      const vocab = logits.dims[2] as number;
      const data = logits.data as Float32Array;
      const best = pickToken(data.subarray((ids.length - 1) * vocab, ids.length * vocab), ids.slice(3), { tsBegin, eot, noTimestamps });
      ids.push(best);
      if (best === eot) break;
    }
    let start: number | undefined;
    let text: number[] = [];
    for (const id of ids.slice(3)) {
      if (id === eot) break;
      if (id >= tsBegin) {
        const t = base + (id - tsBegin) * 0.02;
        if (start === undefined) start = t;
        else {
          const words = text.length > 0 ? tokenizer.decode(text, { skip_special_tokens: true }).trim() : '';
          if (words) segments.push({ start, end: t, text: words });
          start = undefined;
          text = [];
        }
      } else text.push(id);
    }
    const rest = text.length > 0 ? tokenizer.decode(text, { skip_special_tokens: true }).trim() : '';
    if (rest) segments.push({ start: start ?? base, end: Math.min(pcm16k.length, offset + windowSamples) / mel.sampleRate, text: rest });
  }
  return segments;
}

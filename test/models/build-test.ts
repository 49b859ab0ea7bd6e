// Builds the tiny test models: same input/output names and shapes as the real families (CLIP, CLAP,
// MiniLM, Whisper), tiny weights. tiny-color's image and text encoders are aligned on purpose: a
// colour word embeds to exactly what a frame of that colour does, so "red" finds the red frame.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Manifest } from '../../models/manifest/schema.js';
import { GraphBuilder } from '../../models/testing/onnx-builder.js';

export const COLOURS: Record<string, [number, number, number]> = {
  red: [255, 0, 0], green: [0, 255, 0], blue: [0, 0, 255], yellow: [255, 255, 0], cyan: [0, 255, 255],
  magenta: [255, 0, 255], white: [255, 255, 255], black: [0, 0, 0], orange: [255, 128, 0], purple: [128, 0, 128],
};
const WORDS = ['a', 'the', 'frame', 'car', 'person', 'door', 'dog', 'speech', 'music', 'hello', 'world', 'is', 'of', 'in'];
const DIMS = 8;
const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/** Deterministic pseudo-random weights (mulberry32), so every build gives the same files. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}
const randoms = (n: number, seed: number) => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => r());
};

/** A BERT-style WordPiece tokenizer.json over a fixed vocabulary, with optional extra special tokens. */
function tokenizerJson(vocab: string[], specials: string[]): object {
  const map = Object.fromEntries(vocab.map((w, i) => [w, i]));
  const cls = map['[CLS]'] as number;
  const sep = map['[SEP]'] as number;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map((content) => ({ id: map[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [cls], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [sep], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: map },
  };
}

const BASE_VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', ...Object.keys(COLOURS), ...WORDS];
const BASE_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'];

interface Built {
  manifest: Omit<Manifest, 'files'> & { files: { path: string; sha256?: string; recordOnFirstDownload: boolean }[] };
  files: Record<string, Uint8Array | string>;
}

const generated = { kind: 'generated' as const, by: 'test/models/build-test.ts' };
const t = (name: string, type: 'float32' | 'int64', shape: (number | string)[]) => ({ name, type, shape });

/** Bag-of-token-embeddings text encoder: Gather rows, zero rows for specials/padding, sum over the sequence. */
function textGraph(table: Float32Array, vocab: number, withMask: boolean, output: string, sequence: number | string): Uint8Array {
  const g = new GraphBuilder();
  g.floatInit('embeddings', [vocab, DIMS], table);
  let x = g.node('Gather', ['embeddings', 'input_ids'], { axis: 0 });
  if (withMask) {
    const mask = g.node('Unsqueeze', [g.node('Cast', ['attention_mask'], { to: 1 }), g.intInit('axis2', [2])]);
    x = g.node('Mul', [x, mask]);
  }
  g.node('ReduceSum', [x, g.intInit('axis1', [1])], { keepdims: 0 }, output);
  const inputs = [t('input_ids', 'int64', ['batch', sequence]), ...(withMask ? [t('attention_mask', 'int64', ['batch', sequence])] : [])];
  return g.build('text', inputs, [t(output, 'float32', ['batch', DIMS])]);
}

function tinyColor(): Built {
  // image_embeds = W^T . mean(normalised pixels); a colour word's row is W^T . normalised colour.
  const w = randoms(3 * DIMS, 7);
  const vision = new GraphBuilder();
  vision.floatInit('projection', [3, DIMS], w);
  const mean = vision.node('ReduceMean', ['pixel_values'], { axes: [2, 3], keepdims: 0 });
  vision.node('MatMul', [mean, 'projection'], {}, 'image_embeds');
  const table = new Float32Array(BASE_VOCAB.length * DIMS);
  const noise = randoms(BASE_VOCAB.length * DIMS, 11);
  BASE_VOCAB.forEach((word, id) => {
    const colour = COLOURS[word];
    for (let d = 0; d < DIMS; d += 1) {
      if (colour) {
        let s = 0;
        for (let c = 0; c < 3; c += 1) s += ((colour[c]! / 255 - CLIP_MEAN[c]!) / CLIP_STD[c]!) * w[c * DIMS + d]!;
        table[id * DIMS + d] = s;
      } else if (!BASE_SPECIALS.includes(word)) table[id * DIMS + d] = noise[id * DIMS + d]! * 0.05; // other words barely move the vector
    }
  });
  return {
    manifest: {
      name: 'tiny-color', task: 'image-text-embedding' as Manifest['task'], description: 'Test model: CLIP signature, image and text aligned on colour words vs mean colour.', license: 'Apache-2.0',
      source: generated, checksums: 'generated',
      files: [],
      graphs: {
        image: { file: 'vision_model.onnx', inputs: [t('pixel_values', 'float32', ['batch', 3, 224, 224])], outputs: [t('image_embeds', 'float32', ['batch', DIMS])] },
        text: { file: 'text_model.onnx', inputs: [t('input_ids', 'int64', ['batch', 77])], outputs: [t('text_embeds', 'float32', ['batch', DIMS])] },
      },
      preprocessing: {
        image: { size: 224, crop: 'center', mean: CLIP_MEAN as [number, number, number], std: CLIP_STD as [number, number, number] },
        text: { tokenizer: 'tokenizer.json', maxLength: 77, padToMax: true, padId: 0, pooling: 'none' },
      },
      space: { id: 'tiny-color', dims: DIMS, modalities: ['image', 'text'] },
      extra: {},
    },
    files: {
      'vision_model.onnx': vision.build('vision', [t('pixel_values', 'float32', ['batch', 3, 224, 224])], [t('image_embeds', 'float32', ['batch', DIMS])]),
      'text_model.onnx': textGraph(table, BASE_VOCAB.length, false, 'text_embeds', 77),
      'tokenizer.json': JSON.stringify(tokenizerJson(BASE_VOCAB, BASE_SPECIALS)),
    },
  };
}

function tinyMinilm(): Built {
  const table = randoms(BASE_VOCAB.length * DIMS, 21);
  for (let d = 0; d < DIMS; d += 1) table[d] = 0; // [PAD]
  const g = new GraphBuilder();
  g.floatInit('embeddings', [BASE_VOCAB.length, DIMS], table);
  g.floatInit('type_embeddings', [2, DIMS], randoms(2 * DIMS, 22));
  const words = g.node('Gather', ['embeddings', 'input_ids'], { axis: 0 });
  const types = g.node('Gather', ['type_embeddings', 'token_type_ids'], { axis: 0 });
  const mask = g.node('Unsqueeze', [g.node('Cast', ['attention_mask'], { to: 1 }), g.intInit('axis2', [2])]);
  g.node('Mul', [g.node('Add', [words, types]), mask], {}, 'last_hidden_state');
  const inputs = ['input_ids', 'attention_mask', 'token_type_ids'].map((n) => t(n, 'int64', ['batch', 'sequence']));
  const outputs = [t('last_hidden_state', 'float32', ['batch', 'sequence', DIMS])];
  return {
    manifest: {
      name: 'tiny-minilm', task: 'sentence-embedding' as Manifest['task'], description: 'Test model: MiniLM signature (token states, mean pooled by the runtime).', license: 'Apache-2.0',
      source: generated, checksums: 'generated', files: [],
      graphs: { text: { file: 'model.onnx', inputs, outputs } },
      preprocessing: { text: { tokenizer: 'tokenizer.json', maxLength: 256, padToMax: false, padId: 0, pooling: 'mean' } },
      space: { id: 'tiny-minilm', dims: DIMS, modalities: ['text'] }, extra: {},
    },
    files: { 'model.onnx': g.build('minilm', inputs, outputs), 'tokenizer.json': JSON.stringify(tokenizerJson(BASE_VOCAB, BASE_SPECIALS)) },
  };
}

/** dB (of tiny-clap's unnormalised mel power) below which a mel bin counts as silent: padding is -100. */
const CLAP_QUIET_DB = -60;
/**
 * tiny-clap's quiet component, on the bands' scale: one second of noise or a tone puts 10-50 in its
 * bands, the 20 ms of resampler ringing before a sound starts about 0.2.
 */
const CLAP_QUIET_WEIGHT = 5;

function tinyClap(): Built {
  const FRAMES = 1001;
  const MELS = 64;
  // audio_embeds: DIMS - 1 bands of adjacent mel bins, each the level above CLAP_QUIET_DB averaged
  // over frames, then a constant "quiet" component. Silent frames (the zero padding of a short
  // window among them) add nothing to the bands, so a 1 s chunk and a 5 s clip of one sound point
  // the same way: a 440 Hz tone fills the lowest bands only, white noise all of them, and silence
  // leaves the quiet component alone. The quiet component is large enough that a few milliseconds
  // of faint sound (a resampler's ringing before a sound starts) do not turn silence into a sound.
  const BANDS = DIMS - 1;
  const bands = new Float32Array(MELS * DIMS);
  for (let m = 0; m < MELS; m += 1) bands[m * DIMS + Math.floor((m * BANDS) / MELS)] = 1;
  const silence = Float32Array.from({ length: DIMS }, (_, d) => (d === BANDS ? CLAP_QUIET_WEIGHT : 0));
  const g = new GraphBuilder();
  g.floatInit('bands', [MELS, DIMS], bands);
  g.floatInit('silence', [DIMS], silence);
  const above = g.node('Relu', [g.node('Sub', ['input_features', g.floatInit('quiet_db', [1], new Float32Array([CLAP_QUIET_DB]))])]);
  const profile = g.node('ReduceMean', [above], { axes: [1, 2], keepdims: 0 });
  g.node('Add', [g.node('MatMul', [profile, 'bands']), 'silence'], {}, 'audio_embeds');
  const table = randoms(BASE_VOCAB.length * DIMS, 32);
  for (let d = 0; d < DIMS; d += 1) table[d] = 0;
  const audioIn = [t('input_features', 'float32', ['batch', 1, FRAMES, MELS])];
  const audioOut = [t('audio_embeds', 'float32', ['batch', DIMS])];
  return {
    manifest: {
      name: 'tiny-clap', task: 'audio-text-embedding' as Manifest['task'], description: 'Test model: CLAP signature (48 kHz log-mel in, audio and text embeddings out); audio embeds the energy per band of mel bins, so tones, noise and silence land apart.', license: 'Apache-2.0',
      source: generated, checksums: 'generated', files: [],
      graphs: {
        audio: { file: 'audio_model.onnx', inputs: audioIn, outputs: audioOut },
        text: { file: 'text_model.onnx', inputs: [t('input_ids', 'int64', ['batch', 'sequence']), t('attention_mask', 'int64', ['batch', 'sequence'])], outputs: [t('text_embeds', 'float32', ['batch', DIMS])] },
      },
      preprocessing: {
        audio: { sampleRate: 48_000, windowSeconds: 10, mel: { nMels: MELS, nFft: 1024, hop: 480, fMin: 50, fMax: 14_000, frames: FRAMES } },
        text: { tokenizer: 'tokenizer.json', maxLength: 77, padToMax: false, padId: 0, pooling: 'none' },
      },
      space: { id: 'tiny-clap', dims: DIMS, modalities: ['audio', 'text'] }, extra: {},
    },
    files: {
      'audio_model.onnx': g.build('audio', audioIn, audioOut),
      'text_model.onnx': textGraph(table, BASE_VOCAB.length, true, 'text_embeds', 'sequence'),
      'tokenizer.json': JSON.stringify(tokenizerJson(BASE_VOCAB, BASE_SPECIALS)),
    },
  };
}

function tinyWhisper(): Built {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '<|endoftext|>', '<|startoftranscript|>', '<|en|>', '<|transcribe|>', '<|notimestamps|>'];
  const timestamps = Array.from({ length: 1501 }, (_, i) => `<|${(i * 0.02).toFixed(2)}|>`);
  const vocab = [...specials, ...Object.keys(COLOURS), ...WORDS, ...timestamps];
  const id = (s: string) => vocab.indexOf(s);
  const V = vocab.length;
  // Next-token table: the decoder's logits depend only on the last token, spelling a fixed timed transcript.
  const next = new Float32Array(V * V);
  const chain = ['<|transcribe|>', '<|0.00|>', 'hello', 'world', '<|1.00|>', '<|endoftext|>'];
  for (let i = 0; i + 1 < chain.length; i += 1) next[id(chain[i]!) * V + id(chain[i + 1]!)] = 10;
  for (let v = 0; v < V; v += 1) if (!chain.slice(0, -1).includes(vocab[v]!)) next[v * V + id('<|endoftext|>')] = 10;
  const enc = new GraphBuilder();
  enc.floatInit('conv', [DIMS, 80, 3], randoms(DIMS * 80 * 3, 41));
  const conv = enc.node('Conv', ['input_features', 'conv'], { strides: [2], pads: [1, 1], kernel_shape: [3] });
  enc.node('Transpose', [conv], { perm: [0, 2, 1] }, 'last_hidden_state');
  const encIn = [t('input_features', 'float32', ['batch', 80, 3000])];
  const encOut = [t('last_hidden_state', 'float32', ['batch', 1500, DIMS])];
  const dec = new GraphBuilder();
  dec.floatInit('next', [V, V], next);
  const logits = dec.node('Gather', ['next', 'input_ids'], { axis: 0 });
  const pooled = dec.node('ReduceMean', ['encoder_hidden_states'], { axes: [1, 2], keepdims: 1 });
  const zero = dec.node('Mul', [pooled, dec.floatInit('zero', [1], new Float32Array([0]))]);
  dec.node('Add', [logits, zero], {}, 'logits');
  const decIn = [t('input_ids', 'int64', ['batch', 'sequence']), t('encoder_hidden_states', 'float32', ['batch', 1500, DIMS])];
  const decOut = [t('logits', 'float32', ['batch', 'sequence', V])];
  return {
    manifest: {
      name: 'tiny-whisper', task: 'speech-recognition' as Manifest['task'], description: 'Test model: Whisper encoder/decoder signatures; decodes "hello world" from 0.00 to 1.00 s whatever it hears.', license: 'Apache-2.0',
      source: generated, checksums: 'generated', files: [],
      graphs: { encoder: { file: 'encoder_model.onnx', inputs: encIn, outputs: encOut }, decoder: { file: 'decoder_model.onnx', inputs: decIn, outputs: decOut } },
      preprocessing: {
        audio: { sampleRate: 16_000, windowSeconds: 30, mel: { nMels: 80, nFft: 400, hop: 160, fMin: 0, fMax: 8000, frames: 3000 } },
        text: { tokenizer: 'tokenizer.json', maxLength: 448, padToMax: false, padId: 0, pooling: 'none' },
      },
      extra: { language: '<|en|>', maxNewTokens: 16 },
    },
    files: {
      'encoder_model.onnx': enc.build('encoder', encIn, encOut),
      'decoder_model.onnx': dec.build('decoder', decIn, decOut),
      'tokenizer.json': JSON.stringify(tokenizerJson(vocab, [...specials, ...timestamps])),
    },
  };
}

export const TEST_MODELS = ['tiny-color', 'tiny-minilm', 'tiny-clap', 'tiny-whisper'] as const;

/** Writes every test model as <dir>/<name>/{manifest.json, files}; returns the folders written. */
export function buildTestModels(dir: string): string[] {
  const out: string[] = [];
  for (const built of [tinyColor(), tinyMinilm(), tinyClap(), tinyWhisper()]) {
    const folder = join(dir, built.manifest.name);
    mkdirSync(folder, { recursive: true });
    const files = Object.entries(built.files).map(([path, content]) => {
      writeFileSync(join(folder, path), content);
      return { path, sha256: createHash('sha256').update(content).digest('hex'), recordOnFirstDownload: false };
    });
    writeFileSync(join(folder, 'manifest.json'), `${JSON.stringify({ ...built.manifest, files }, null, 2)}\n`);
    out.push(folder);
  }
  return out;
}

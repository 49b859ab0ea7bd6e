// The manifest every model ships with: what it does, which files it needs (with sha256), the exact
// input/output signature of each ONNX graph, and how inputs are prepared. Checked before a session opens.
import { z } from 'zod';

export enum ModelTask {
  ImageTextEmbedding = 'image-text-embedding',
  AudioTextEmbedding = 'audio-text-embedding',
  SentenceEmbedding = 'sentence-embedding',
  SpeechRecognition = 'speech-recognition',
  VoiceActivity = 'voice-activity',
  Ocr = 'ocr',
  ObjectDetection = 'object-detection',
  FaceDetection = 'face-detection',
  FaceDescription = 'face-description',
  PoseEstimation = 'pose-estimation',
}

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lowercase hex sha256');
const dim = z.union([z.number().int().nonnegative(), z.string().min(1)]);

export const TensorSpecSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(['float32', 'int64', 'int32', 'bool']),
    /** Fixed sizes as numbers, symbolic (batch, sequence) as strings. */
    shape: z.array(dim),
  })
  .strict();

export const ModelFileSchema = z
  .object({
    /** Path inside the model folder (fetched) or the npm package (shipped), also the path under the hub revision. */
    path: z.string().min(1),
    /** Pinned digest; absent when it is recorded on first download. */
    sha256: sha256.optional(),
    /** Hub digests we could not pin when writing the manifest: the first download records them. */
    recordOnFirstDownload: z.boolean().default(false),
  })
  .strict()
  .refine((f) => f.sha256 !== undefined || f.recordOnFirstDownload, { message: 'a file needs sha256 or recordOnFirstDownload: true' });

export const GraphSchema = z
  .object({
    /** Which entry of files holds this graph. */
    file: z.string().min(1),
    inputs: z.array(TensorSpecSchema).min(1),
    outputs: z.array(TensorSpecSchema).min(1),
  })
  .strict();

export const ImagePreprocessSchema = z
  .object({
    size: z.number().int().positive(),
    /** 'center': resize the short side to size then crop the middle square (CLIP); 'stretch': resize to size x size. */
    crop: z.enum(['center', 'stretch']),
    mean: z.tuple([z.number(), z.number(), z.number()]),
    std: z.tuple([z.number(), z.number(), z.number()]),
  })
  .strict();

export const AudioPreprocessSchema = z
  .object({
    sampleRate: z.number().int().positive(),
    /** Seconds of audio per model input (padded or truncated). */
    windowSeconds: z.number().positive(),
    mel: z
      .object({ nMels: z.number().int().positive(), nFft: z.number().int().positive(), hop: z.number().int().positive(), fMin: z.number().nonnegative(), fMax: z.number().positive(), frames: z.number().int().positive() })
      .strict()
      .optional(),
  })
  .strict();

export const TextPreprocessSchema = z
  .object({
    /** tokenizer.json (and optionally tokenizer_config.json) entries of files. */
    tokenizer: z.string().min(1),
    tokenizerConfig: z.string().min(1).optional(),
    maxLength: z.number().int().positive(),
    /** Pad every sequence to maxLength (CLIP exports expect 77) instead of to the longest in the batch. */
    padToMax: z.boolean().default(false),
    padId: z.number().int().nonnegative().default(0),
    /** How a sequence output becomes one vector. */
    pooling: z.enum(['none', 'mean']).default('none'),
  })
  .strict();

export const ManifestSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, . _ -'),
    task: z.enum(ModelTask),
    description: z.string(),
    license: z.string().min(1),
    source: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('huggingface'), repo: z.string().min(1), revision: z.string().min(1), url: z.url() }).strict(),
      z.object({ kind: z.literal('npm'), package: z.string().min(1), version: z.string().min(1), url: z.url() }).strict(),
      z.object({ kind: z.literal('generated'), by: z.string().min(1) }).strict(),
      /** Converted to ONNX by engram's own converter from a model another package ships (path inside it). */
      z.object({ kind: z.literal('converted'), from: z.literal('npm'), package: z.string().min(1), version: z.string().min(1), path: z.string().min(1) }).strict(),
    ]),
    /** Where the sha256 values come from, said plainly. */
    checksums: z.enum(['pinned-from-public-material', 'pinned-from-npm-package', 'recorded-on-first-download', 'generated', 'converted-at-setup']),
    files: z.array(ModelFileSchema).min(1),
    graphs: z.record(z.string(), GraphSchema),
    preprocessing: z
      .object({ image: ImagePreprocessSchema.optional(), audio: AudioPreprocessSchema.optional(), text: TextPreprocessSchema.optional() })
      .strict()
      .default({}),
    space: z
      .object({ id: z.string().min(1), dims: z.number().int().positive(), modalities: z.array(z.enum(['image', 'audio', 'text'])).min(1) })
      .strict()
      .optional(),
    /** Task-specific settings (special tokens, thresholds) that do not fit above. */
    extra: z.record(z.string(), z.unknown()).default({}),
  })
  .strict()
  .superRefine((m, ctx) => {
    const files = new Set(m.files.map((f) => f.path));
    for (const [role, graph] of Object.entries(m.graphs)) {
      if (!files.has(graph.file)) ctx.addIssue({ code: 'custom', path: ['graphs', role, 'file'], message: `${graph.file} is not listed in files` });
    }
    const tok = m.preprocessing.text?.tokenizer;
    if (tok && !files.has(tok)) ctx.addIssue({ code: 'custom', path: ['preprocessing', 'text', 'tokenizer'], message: `${tok} is not listed in files` });
  });

export type Manifest = z.infer<typeof ManifestSchema>;
export type TensorSpec = z.infer<typeof TensorSpecSchema>;
export type GraphSpec = z.infer<typeof GraphSchema>;
export type ImagePreprocess = z.infer<typeof ImagePreprocessSchema>;
export type AudioPreprocess = z.infer<typeof AudioPreprocessSchema>;
export type TextPreprocess = z.infer<typeof TextPreprocessSchema>;

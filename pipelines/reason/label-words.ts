// Question words to detector labels through WordNet: "courier", "someone" and "kid" reach
// "person", "lorry" and "pickup" reach "truck", "puppy" reaches "dog", "vehicle" reaches every
// vehicle label. A word reaches a label when one of its senses is a kind of the label (hyponym:
// courier -> messenger -> ... -> person) or the label is a kind of it (hypernym: vehicle). The map
// is built once from the noun database (repositories/wordnet.ts) and cached as plain JSON.
// A word is read in the senses people mostly use it in (meantSenses): "light" is not a person.
// WordNet 3.1 files bus and train under "public transport", beside "vehicle" under "conveyance",
// so "vehicle" does not reach them; reaching a word's siblings would also send "animal" to
// person and "container" to every artifact, so that gap is left as WordNet has it.
import type { NounNet } from '../repositories/wordnet.js';
import { isStopWord, words } from './keywords.js';

/** Which WordNet senses a detector label means: its lemma, restricted to one lexicographer file. */
export interface LabelSense {
  label: string;
  /** WordNet lemma ('_' between words); the label itself when absent. */
  lemma?: string;
  /** Lexicographer file of the meant senses: 3 Tops, 5 animal, 6 artifact, 10 communication, 13 food. */
  lexFile: number;
  /** Which of the lemma's senses in that file (0: the most frequent). */
  nth?: number;
  /**
   * A lexicographer file whose every sense is a kind of this label. WordNet's lexicographers
   * filed all nouns for people in noun.person (18), under the unique beginner "person"; a few of
   * them hang off other hypernyms (a driver is an "operator", a causal agent) but the file still
   * says they are people.
   */
  coversLexFile?: number;
}

/**
 * What each COCO label means in WordNet. The detector's names are terse ("tv", "remote", "mouse"),
 * so each names its WordNet lemma where that differs and the domain of the sense the detector was
 * trained on: a COCO "mouse" is the computer mouse (artifact), not the animal; an "orange" the fruit.
 */
export const COCO_SENSES: readonly LabelSense[] = [
  { label: 'person', lexFile: 3, coversLexFile: 18 }, { label: 'bicycle', lexFile: 6 }, { label: 'car', lexFile: 6 }, { label: 'motorcycle', lexFile: 6 },
  { label: 'airplane', lexFile: 6 }, { label: 'bus', lexFile: 6 }, { label: 'train', lexFile: 6 }, { label: 'truck', lexFile: 6 },
  { label: 'boat', lexFile: 6 }, { label: 'traffic light', lexFile: 10 }, { label: 'fire hydrant', lexFile: 6 },
  // WordNet has no stop sign; its nearest is the street sign it is a kind of.
  { label: 'stop sign', lemma: 'street_sign', lexFile: 10 }, { label: 'parking meter', lexFile: 6 }, { label: 'bench', lexFile: 6 },
  { label: 'bird', lexFile: 5 }, { label: 'cat', lexFile: 5 }, { label: 'dog', lexFile: 5 }, { label: 'horse', lexFile: 5 },
  { label: 'sheep', lexFile: 5 }, { label: 'cow', lexFile: 5 }, { label: 'elephant', lexFile: 5 }, { label: 'bear', lexFile: 5 },
  { label: 'zebra', lexFile: 5 }, { label: 'giraffe', lexFile: 5 }, { label: 'backpack', lexFile: 6 }, { label: 'umbrella', lexFile: 6 },
  { label: 'handbag', lexFile: 6 }, { label: 'tie', lemma: 'necktie', lexFile: 6 }, { label: 'suitcase', lexFile: 6 },
  { label: 'frisbee', lexFile: 6 }, { label: 'skis', lemma: 'ski', lexFile: 6 }, { label: 'snowboard', lexFile: 6 },
  { label: 'sports ball', lemma: 'ball', lexFile: 6 }, { label: 'kite', lexFile: 6 }, { label: 'baseball bat', lexFile: 6 },
  { label: 'baseball glove', lexFile: 6 }, { label: 'skateboard', lexFile: 6 }, { label: 'surfboard', lexFile: 6 },
  { label: 'tennis racket', lexFile: 6 }, { label: 'bottle', lexFile: 6 }, { label: 'wine glass', lemma: 'wineglass', lexFile: 6 },
  { label: 'cup', lexFile: 6 }, { label: 'fork', lexFile: 6 }, { label: 'knife', lexFile: 6 }, { label: 'spoon', lexFile: 6 },
  { label: 'bowl', lexFile: 6 }, { label: 'banana', lexFile: 13 }, { label: 'apple', lexFile: 13 }, { label: 'sandwich', lexFile: 13 },
  { label: 'orange', lexFile: 13 }, { label: 'broccoli', lexFile: 13 }, { label: 'carrot', lexFile: 13 }, { label: 'hot dog', lexFile: 13 },
  { label: 'pizza', lexFile: 13 }, { label: 'donut', lexFile: 13 }, { label: 'cake', lexFile: 13 }, { label: 'chair', lexFile: 6 },
  { label: 'couch', lexFile: 6 }, { label: 'potted plant', lemma: 'pot_plant', lexFile: 20 }, { label: 'bed', lexFile: 6 },
  { label: 'dining table', lexFile: 6 }, { label: 'toilet', lexFile: 6, nth: 1 }, { label: 'tv', lemma: 'television_receiver', lexFile: 6 },
  { label: 'laptop', lexFile: 6 }, { label: 'mouse', lexFile: 6 }, { label: 'remote', lemma: 'remote_control', lexFile: 6 },
  { label: 'keyboard', lexFile: 6 }, { label: 'cell phone', lemma: 'cellular_telephone', lexFile: 6 }, { label: 'microwave', lemma: 'microwave_oven', lexFile: 6 },
  { label: 'oven', lexFile: 6 }, { label: 'toaster', lexFile: 6 }, { label: 'sink', lexFile: 6 }, { label: 'refrigerator', lexFile: 6 },
  { label: 'book', lexFile: 6 }, { label: 'clock', lexFile: 6 }, { label: 'vase', lexFile: 6 }, { label: 'scissors', lexFile: 6 },
  { label: 'teddy bear', lexFile: 6 }, { label: 'hair drier', lexFile: 6 }, { label: 'toothbrush', lexFile: 6 },
];

/**
 * Which rules built a map: cached maps built by older rules are rebuilt. 2: senses weighed by how
 * often they are used (meantSenses), the person file covered by "person".
 */
export const LABEL_WORDS_VERSION = 2;

/** Word ('_' between words of a compound) -> labels it reaches, sorted. */
export type LabelWords = Record<string, string[]>;

/**
 * Hypernyms this close to WordNet's root (entity, physical entity, object, whole, matter) say
 * nothing about which label is meant: "thing" or "object" must not reach all 80 labels.
 */
const MIN_GENERAL_DEPTH = 4;

/**
 * A domain (lexicographer file) must hold this share of a word's tagged uses before the word is
 * read in it: "light" was tagged 117 times, 3 of them as a person ("the light of my life"), so a
 * question about a light is not about a person; "television" was tagged 15 times, 3 of them as the
 * set, so the set stays.
 */
const MIN_DOMAIN_SHARE = 0.1;

/**
 * The senses a question's word can be taken to mean, among those naming something a camera can see
 * (`seeable`: physical entities, like every label). WordNet counts how often each sense was tagged
 * in its semantic concordance; a domain the word is seldom used in is left out (see
 * MIN_DOMAIN_SHARE), and so is a sense never tagged that lists the word only as an alias ("pet"
 * among the names of a darling). A sense the word heads (WordNet names it first) stays though the
 * old texts never used it: a "cab" is mostly a taxi today. A word whose seeable senses were never
 * tagged has no frequencies for them (their order is arbitrary), so the senses it heads are
 * preferred: a "scooter" is the scooter, not the water scooter or the iceboat that list it as an
 * alias, and a "basketball" the ball, though the texts only ever meant the game.
 */
export function meantSenses(net: NounNet, lemma: string, synsets: readonly number[], seeable: (synset: number) => boolean = () => true): number[] {
  const tags = net.tagCounts.get(lemma) ?? [];
  const all = synsets.map((synset, i) => ({ synset, tags: tags[i] ?? 0, heads: net.headWord.get(synset) === lemma, file: net.lexFile.get(synset) }));
  const candidates = all.filter((c) => seeable(c.synset));
  if (candidates.every((c) => c.tags === 0)) {
    const headed = candidates.filter((c) => c.heads);
    return (headed.length > 0 ? headed : candidates).map((c) => c.synset);
  }
  // Shares are of all the word's uses: "red" was tagged 17 times, once as a revolutionary.
  const total = all.reduce((sum, c) => sum + c.tags, 0);
  const perDomain = new Map<number | undefined, number>();
  for (const c of all) perDomain.set(c.file, (perDomain.get(c.file) ?? 0) + c.tags);
  return candidates.filter((c) => (c.tags > 0 || c.heads) && (perDomain.get(c.file) ?? 0) >= MIN_DOMAIN_SHARE * total).map((c) => c.synset);
}

/** Builds the word -> labels map over every noun lemma. Pure; about a second on the full database. */
export function buildLabelWords(net: NounNet, senses: readonly LabelSense[] = COCO_SENSES): LabelWords {
  const ancestors = new Map<number, Set<number>>();
  const depth = new Map<number, number>();
  const visit = (s: number): Set<number> => {
    const known = ancestors.get(s);
    if (known) return known;
    const set = new Set<number>([s]);
    ancestors.set(s, set); // Guards against a cycle in the data.
    let d = 0;
    const up = net.hypernyms.get(s) ?? [];
    for (const h of up) {
      for (const a of visit(h)) set.add(a);
      const hd = (depth.get(h) ?? 0) + 1;
      d = d === 0 ? hd : Math.min(d, hd);
    }
    depth.set(s, d);
    return set;
  };
  // Synset -> labels it is, and synset -> labels below it.
  const isLabel = new Map<number, string[]>();
  const above = new Map<number, Set<string>>();
  for (const sense of senses) {
    const lemma = sense.lemma ?? sense.label.replace(/ /g, '_');
    // One sense per label: a lemma's rarer senses in the same file are other things (a "bus" is
    // also an old car, a "bench" also a workbench).
    const synsets = (net.senses.get(lemma) ?? []).filter((s) => net.lexFile.get(s) === sense.lexFile).slice(sense.nth ?? 0, (sense.nth ?? 0) + 1);
    if (synsets.length === 0) throw new Error(`WordNet has no ${lemma} in lexicographer file ${sense.lexFile} for the label "${sense.label}"`);
    for (const s of synsets) {
      isLabel.set(s, [...(isLabel.get(s) ?? []), sense.label]);
      for (const a of visit(s)) {
        const set = above.get(a) ?? new Set<string>();
        set.add(sense.label);
        above.set(a, set);
      }
    }
  }
  // Which files a label covers, and the label's branch under the root (physical entity): the
  // person file also holds gods, spirits and trolls, beliefs rather than things a camera sees.
  const byLexFile = new Map<number, { label: string; branch: number[] }>();
  for (const sense of senses) {
    if (sense.coversLexFile === undefined) continue;
    const own = [...isLabel].filter(([, labels]) => labels.includes(sense.label)).map(([s]) => s);
    byLexFile.set(sense.coversLexFile, { label: sense.label, branch: own.flatMap((s) => [...visit(s)].filter((a) => depth.get(a) === 1)) });
  }
  const labelsOfSense = (s: number): Set<string> => {
    const out = new Set<string>();
    // Named people (Abraham Lincoln) are instances, with no hypernym of their own: a question
    // naming someone asks about that person, not about any person the detector saw.
    const filed = net.hypernyms.has(s) ? byLexFile.get(net.lexFile.get(s) ?? -1) : undefined;
    if (filed && filed.branch.some((a) => visit(s).has(a))) out.add(filed.label);
    for (const a of visit(s)) for (const l of isLabel.get(a) ?? []) out.add(l);
    if ((depth.get(s) ?? 0) >= MIN_GENERAL_DEPTH) for (const l of above.get(s) ?? []) out.add(l);
    return out;
  };
  const out: LabelWords = {};
  // Words are read in their senses that name physical things, as nearly every label does, or that
  // reach a label anyway (the traffic light and stop sign are filed as signals, communication):
  // "basketball" is then the ball, not the game the texts mostly meant.
  const branches = new Map<number, number>();
  for (const s of isLabel.keys()) for (const a of visit(s)) if (depth.get(a) === 1) branches.set(a, (branches.get(a) ?? 0) + 1);
  const physical = [...branches].sort((a, b) => b[1] - a[1])[0]?.[0];
  const seeable = (s: number) => (physical !== undefined && visit(s).has(physical)) || labelsOfSense(s).size > 0;
  const names = new Map<string, string>();
  for (const sense of senses) {
    names.set(sense.label.replace(/ /g, '_'), sense.label);
    names.set(sense.lemma ?? sense.label.replace(/ /g, '_'), sense.label);
  }
  for (const [lemma, synsets] of net.senses) {
    // A label's own name means the label ("buses" are buses, not the old cars also called buses).
    const named = names.get(lemma);
    if (named) {
      out[lemma] = [named];
      continue;
    }
    // The word's most frequent sense that reaches a label decides the domain; its other senses in
    // the same domain count too (bike: motorcycle and bicycle), others do not (puppy: the young
    // dog, not the conceited young person).
    let domain: number | undefined;
    const labels = new Set<string>();
    for (const s of meantSenses(net, lemma, synsets, seeable)) {
      const found = labelsOfSense(s);
      if (found.size === 0) continue;
      const file = net.lexFile.get(s);
      domain ??= file;
      if (file === domain) for (const l of found) labels.add(l);
    }
    if (labels.size > 0) out[lemma] = [...labels].sort();
  }
  return out;
}

// WordNet's exception lists (noun.exc) are not in the package; these plurals are the ones a
// question about people and things needs that the regular rules below cannot undo.
const IRREGULAR_PLURALS: Record<string, string> = {
  people: 'person', persons: 'person', men: 'man', women: 'woman', children: 'child', kids: 'kid', folks: 'folk',
  mice: 'mouse', geese: 'goose', oxen: 'ox', knives: 'knife', wolves: 'wolf', calves: 'calf', leaves: 'leaf',
  shelves: 'shelf', feet: 'foot', teeth: 'tooth', lorries: 'lorry', ponies: 'pony', puppies: 'puppy',
};

// WordNet's morphological detachment rules for nouns (morphy).
const DETACH: readonly [string, string][] = [['ses', 's'], ['xes', 'x'], ['zes', 'z'], ['ches', 'ch'], ['shes', 'sh'], ['men', 'man'], ['ies', 'y'], ['s', '']];

/** Base forms WordNet would look a noun up under: itself, then its singulars. */
export function nounForms(word: string): string[] {
  const forms = [word];
  const irregular = IRREGULAR_PLURALS[word];
  if (irregular) forms.push(irregular);
  for (const [suffix, base] of DETACH) if (word.endsWith(suffix) && word.length > suffix.length + 1) forms.push(word.slice(0, -suffix.length) + base);
  return forms;
}

// WordNet lists "someone" and "somebody" as person; the other indefinite pronouns are closed-class
// words it leaves out, and they mean the same person.
const INDEFINITE_PERSON = /^(?:any|every|no)(?:one|body)$/;

/** A label mentioned in a question, with the words that named it. */
export interface LabelMention {
  words: string;
  labels: string[];
  /** The base form of the words ("vehicles" -> "vehicle", spaces between words): what the question calls them. */
  noun: string;
}

/** The labels a question's words reach, longest compounds first ("hot dog" is food, not a dog). */
export function findLabels(text: string, map: LabelWords): LabelMention[] {
  const names = new Set(COCO_SENSES.map((s) => s.label));
  const tokens = words(text.replace(/\bno one\b/gi, 'nobody'));
  const out: LabelMention[] = [];
  const lookup = (form: string): { labels: string[]; noun: string } | undefined => {
    for (const f of nounForms(form)) {
      const hit = map[f];
      if (hit) return { labels: hit, noun: f.replace(/_/g, ' ') };
    }
    return undefined;
  };
  for (let i = 0; i < tokens.length; ) {
    let matched = 0;
    for (let n = Math.min(3, tokens.length - i); n >= 1 && matched === 0; n -= 1) {
      const slice = tokens.slice(i, i + n);
      const first = slice[0] ?? '';
      if (n === 1 && isStopWord(first) && !INDEFINITE_PERSON.test(first) && !/^some(?:one|body)$/.test(first)) continue;
      const phrase = slice.join('_');
      // A label's own name means the label ("hot dog" is also WordNet's word for a show-off).
      const name = slice.join(' ');
      const hit = names.has(name) ? { labels: [name], noun: name } : n === 1 && INDEFINITE_PERSON.test(first) ? lookup(first.replace(/^(?:any|every|no)/, 'some')) : lookup(phrase);
      if (hit) {
        out.push({ words: name, ...hit });
        matched = n;
      }
    }
    i += Math.max(1, matched);
  }
  return out;
}

// Question words to detector labels through WordNet: "courier", "someone" and "kid" reach
// "person", "lorry" and "pickup" reach "truck", "puppy" reaches "dog", "vehicle" reaches every
// vehicle label. A word reaches a label when one of its senses is a kind of the label (hyponym:
// courier -> messenger -> ... -> person) or the label is a kind of it (hypernym: vehicle). The map
// is built once from the noun database (repositories/wordnet.ts) and cached as plain JSON.
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
}

/**
 * What each COCO label means in WordNet. The detector's names are terse ("tv", "remote", "mouse"),
 * so each names its WordNet lemma where that differs and the domain of the sense the detector was
 * trained on: a COCO "mouse" is the computer mouse (artifact), not the animal; an "orange" the fruit.
 */
export const COCO_SENSES: readonly LabelSense[] = [
  { label: 'person', lexFile: 3 }, { label: 'bicycle', lexFile: 6 }, { label: 'car', lexFile: 6 }, { label: 'motorcycle', lexFile: 6 },
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

/** Word ('_' between words of a compound) -> labels it reaches, sorted. */
export type LabelWords = Record<string, string[]>;

/**
 * Hypernyms this close to WordNet's root (entity, physical entity, object, whole, matter) say
 * nothing about which label is meant: "thing" or "object" must not reach all 80 labels.
 */
const MIN_GENERAL_DEPTH = 4;

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
  const labelsOfSense = (s: number): Set<string> => {
    const out = new Set<string>();
    for (const a of visit(s)) for (const l of isLabel.get(a) ?? []) out.add(l);
    if ((depth.get(s) ?? 0) >= MIN_GENERAL_DEPTH) for (const l of above.get(s) ?? []) out.add(l);
    return out;
  };
  const out: LabelWords = {};
  for (const [lemma, synsets] of net.senses) {
    // The word's most frequent sense that reaches a label decides the domain; its other senses in
    // the same domain count too (bike: motorcycle and bicycle), others do not (puppy: the young
    // dog, not the conceited young person).
    let domain: number | undefined;
    const labels = new Set<string>();
    for (const s of synsets) {
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
}

/** The labels a question's words reach, longest compounds first ("hot dog" is food, not a dog). */
export function findLabels(text: string, map: LabelWords): LabelMention[] {
  const names = new Set(COCO_SENSES.map((s) => s.label));
  const tokens = words(text.replace(/\bno one\b/gi, 'nobody'));
  const out: LabelMention[] = [];
  const lookup = (form: string): string[] | undefined => {
    for (const f of nounForms(form)) {
      const hit = map[f];
      if (hit) return hit;
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
      const labels = names.has(slice.join(' ')) ? [slice.join(' ')] : n === 1 && INDEFINITE_PERSON.test(first) ? lookup(first.replace(/^(?:any|every|no)/, 'some')) : lookup(phrase);
      if (labels) {
        out.push({ words: slice.join(' '), labels });
        matched = n;
      }
    }
    i += Math.max(1, matched);
  }
  return out;
}

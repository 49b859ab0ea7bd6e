// Questions about what the detector saw: "when did someone come in?", "how many cars passed?",
// "was anyone here last night?". Reads which labels the question names (through WordNet,
// label-words.ts) and what it asks of them; spoken, heard and written questions stay with retrieval.
import { findLabels, type LabelMention, type LabelWords } from './label-words.js';
import { ModalityHint, type ParsedQuestion } from './question.js';

export enum ObjectAsk {
  /** "When was someone in the garage?" */
  Presence = 'presence',
  /** "When did a person enter the room?": where a track starts. */
  Arrival = 'arrival',
  /** "When did the car leave?": where a track ends. */
  Departure = 'departure',
  /** "How many cars passed?" */
  Count = 'count',
  /** "Was anyone here last night?": yes or no, with the events. */
  Whether = 'whether',
}

export interface ObjectQuestion {
  ask: ObjectAsk;
  /** Detector labels of the first thing the question names, sorted. */
  labels: string[];
  /** What to call them in the answer: the label, or the question's own word when it reaches several ("vehicle"). */
  noun: string;
  mentions: LabelMention[];
  /** Counting things that came and went (distinct tracks), not how many were there at once. */
  countsMovement: boolean;
  /** Count only tracks that came into view ("how many people came in"). */
  countsArrivals: boolean;
}

const COUNT = /\b(how many|number of|count)\b/;
const WHETHER = /^\s*(was|were|is|are|did|does|do|has|have|had)\b/;
const DEPARTURE = /\b(leave|leaves|left|leaving|depart\w*|exit\w*|(?:go|gone|went|drive|drove|driven|walk|walked|run|ran) (?:away|off|out)|taken? away|took away|removed?|disappear\w*)\b/;
const ARRIVAL = /\b(enter\w*|arriv\w*|(?:come|comes|came|coming) (?:in|into|by|to|back|home|over|round|around)|(?:show|showed|shown|turn|turned) up|appear\w*|(?:walk|walked|drive|drove|pull|pulled|step|stepped) in(?:to)?|(?:get|got) (?:here|in)|(?:put|brought|placed|set) (?:back|down)|return\w*|come|came)\b/;
const MOVEMENT = /\b(came|come|coming|pass\w*|enter\w*|arriv\w*|visit\w*|went|drove|driven|walk\w*|cross\w*|left|leave|go|went by)\b/;
const ASKS_TIME_OR_COUNT = /\b(when|what time|how many|number of|count|how often|how long)\b/;

/** Whether the question has the shape of one about objects (checked before the word map is needed). */
export function mayAskAboutObjects(parsed: ParsedQuestion, rest: string): boolean {
  if (parsed.order) return false;
  if (parsed.hints.some((h) => h === ModalityHint.Speech || h === ModalityHint.Sound || h === ModalityHint.Text)) return false;
  const text = rest.toLowerCase();
  return ASKS_TIME_OR_COUNT.test(text) || WHETHER.test(text);
}

/**
 * Reads a question about detected objects; undefined when it names no label or is about speech,
 * sound or text ("what did the man say?" is a transcript question, not a person question).
 */
export function readObjectQuestion(parsed: ParsedQuestion, rest: string, map: LabelWords): ObjectQuestion | undefined {
  if (!mayAskAboutObjects(parsed, rest)) return undefined;
  const text = rest.toLowerCase();
  const mentions = findLabels(text, map);
  if (mentions.length === 0) return undefined;
  // The first thing named is what is asked about; later ones are where it was ("bottles on the table").
  const labels = [...(mentions[0]?.labels ?? [])].sort();
  const ask = COUNT.test(text)
    ? ObjectAsk.Count
    : WHETHER.test(text) && !/\bwhen\b/.test(text)
      ? ObjectAsk.Whether
      : DEPARTURE.test(text)
        ? ObjectAsk.Departure
        : ARRIVAL.test(text)
          ? ObjectAsk.Arrival
          : ObjectAsk.Presence;
  const noun = labels.length === 1 ? (labels[0] ?? '') : (mentions[0]?.noun ?? labels.join(' or '));
  return { ask, labels, noun, mentions, countsMovement: MOVEMENT.test(text), countsArrivals: ARRIVAL.test(text) && !/\bpass/.test(text) };
}

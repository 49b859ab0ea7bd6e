// Questions about who was there, answered from the face identities events carry: "when did Alice
// come?" (a named identity), "who was in the room at 3 pm?", "how many different people came
// today?", and "when was this person here?" with a face photo. Questions about speech ("who said
// ...") stay with retrieval; "how many people" without "different" stays with the object
// detector's counts (people whose faces were never seen still count there).
import { ModalityHint, type ParsedQuestion } from './question.js';

export enum PersonAsk {
  /** "When did Alice come?", "was Alice here today?", or a face photo: the events of one identity. */
  When = 'when',
  /** "Who was in the room at 3 pm?": the identities of the events in range. */
  Who = 'who',
  /** "How many different people came today?": distinct identities in range. */
  Count = 'count',
}

export interface KnownPerson {
  id: string;
  name: string | null;
}

export interface PersonQuestion {
  ask: PersonAsk;
  /** The identity asked about (When). */
  person?: KnownPerson;
}

const WHO = /^\s*(?:and\s+)?who(?:'s|m)?\b|\bwho (?:was|were|is|came|come|visited|showed|turned|arrived|entered|appeared|has|had)\b/;
const COUNT_PEOPLE = /\bhow many (?:different|distinct|unique|individual|separate) (?:people|persons|faces|visitors|men|women)\b/;
const WHEN_OR_WHETHER = /\b(when|what time|how often|how many times)\b|^\s*(was|were|is|did|does|has|have|had)\b/;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The named identity the question mentions (longest name first, whole words, any case). */
export function findNamedPerson(text: string, people: readonly KnownPerson[]): KnownPerson | undefined {
  const named = people.filter((p): p is KnownPerson & { name: string } => p.name !== null && p.name.trim() !== '').sort((a, b) => b.name.length - a.name.length);
  return named.find((p) => new RegExp(`(?:^|[^\\p{L}\\p{N}])${escape(p.name.toLowerCase())}(?:$|[^\\p{L}\\p{N}])`, 'u').test(text));
}

/** Reads a question about people; undefined when it is not one (or is about speech, sound or text). */
export function readPersonQuestion(parsed: ParsedQuestion, people: readonly KnownPerson[]): PersonQuestion | undefined {
  if (parsed.order) return undefined;
  if (parsed.hints.some((h) => h === ModalityHint.Speech || h === ModalityHint.Sound || h === ModalityHint.Text)) return undefined;
  const text = parsed.about.toLowerCase();
  if (COUNT_PEOPLE.test(text)) return { ask: PersonAsk.Count };
  const person = findNamedPerson(text, people);
  if (person && WHEN_OR_WHETHER.test(text)) return { ask: PersonAsk.When, person };
  if (WHO.test(text)) return { ask: PersonAsk.Who };
  return undefined;
}

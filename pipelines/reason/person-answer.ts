// Answers a question about people from the identities events carry (person-question.ts). Names
// come from the people table at answer time, so naming, merging and forgetting change the answer
// at once; an identity without a name is "an unnamed person (id ...)", the id a user can name.
import type { StoredEvent } from '../records/event.js';
import { describeWhen } from './extractive-answer.js';
import { where, type ObjectAnswerContext } from './object-answer.js';
import { PersonAsk, type KnownPerson, type PersonQuestion } from './person-question.js';

export interface PersonAnswer {
  answer: string;
  /** Cited events, in the order the answer names them. */
  cited: StoredEvent[];
}

/** "Alice", or "an unnamed person (id 3f2a...)". */
export function personName(person: KnownPerson): string {
  return person.name ?? `an unnamed person (id ${person.id})`;
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function joined(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Each identity seen in the events (known to the people table), with the events it was seen in, in order of first sighting. */
function sightings(events: readonly StoredEvent[], known: ReadonlyMap<string, KnownPerson>): { person: KnownPerson; events: StoredEvent[] }[] {
  const by = new Map<string, { person: KnownPerson; events: StoredEvent[] }>();
  for (const event of [...events].sort((a, b) => a.startedAt - b.startedAt)) {
    for (const id of event.people) {
      const person = known.get(id);
      // An id the people table no longer holds (forgotten while this was read) names no one.
      if (!person) continue;
      const entry = by.get(id) ?? { person, events: [] };
      entry.events.push(event);
      by.set(id, entry);
    }
  }
  return [...by.values()];
}

/**
 * Writes the answer. `events` are those in the question's range (for When: those where the person
 * was seen), oldest first; `people` every identity the people table holds.
 */
export function answerPeople(question: PersonQuestion, events: readonly StoredEvent[], people: readonly KnownPerson[], context: Omit<ObjectAnswerContext, 'swapSeconds'> & { byPhoto?: boolean }): PersonAnswer {
  const max = Math.max(1, context.maxEvidence);
  const known = new Map(people.map((p) => [p.id, p]));
  const when = (e: StoredEvent) => describeWhen(e, context.timeZone, context.now);
  const scope = where(context);
  switch (question.ask) {
    case PersonAsk.When: {
      const person = question.person as KnownPerson;
      const subject = context.byPhoto ? `This person (${personName(person)})` : capitalised(personName(person));
      const seen = events.filter((e) => e.people.includes(person.id));
      if (seen.length === 0) return { answer: `${subject} was not seen${scope}.`, cited: [] };
      const shown = seen.slice(0, max).map(when);
      const more = seen.length > shown.length ? `; and ${seen.length - shown.length} more` : '';
      const times = seen.length > 1 ? ` ${seen.length} times` : '';
      return { answer: `${subject} was seen${scope}${times}: ${shown.join('; ')}${more}.`, cited: seen.slice(0, max) };
    }
    case PersonAsk.Who:
    case PersonAsk.Count: {
      const found = sightings(events, known);
      if (found.length === 0) {
        const none = question.ask === PersonAsk.Count ? 'No one was recognised by their face' : 'No one was recognised';
        return { answer: `${none}${scope}.`, cited: [] };
      }
      const listed = found.slice(0, max).map(({ person, events: list }) => `${personName(person)} ${when(list[0] as StoredEvent)}${list.length > 1 ? ` (seen in ${list.length} events)` : ''}`);
      const more = found.length > listed.length ? `; and ${found.length - listed.length} more` : '';
      const cited = [...new Map(found.slice(0, max).map(({ events: list }) => [(list[0] as StoredEvent).id, list[0] as StoredEvent])).values()];
      if (question.ask === PersonAsk.Count) {
        const n = found.length;
        return { answer: `${n} different ${n === 1 ? 'person was' : 'people were'} seen${scope}: ${listed.join('; ')}${more}.`, cited };
      }
      const names = joined(found.map(({ person }) => personName(person)));
      return { answer: `${capitalised(names)} ${found.length === 1 ? 'was' : 'were'} seen${scope}: ${listed.join('; ')}${more}.`, cited };
    }
  }
}

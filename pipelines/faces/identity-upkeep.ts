// What changes an identity changes on both sides of memory: the people tables (faces, people)
// and the events that carry the identity's id. Merging (by a person or by the re-clustering pass)
// moves the events to the identity kept; forgetting removes the id from every event before the
// identity and its faces and crops are deleted. Events are rewritten first, so a crash half-way
// leaves the identity still listed (forget or merge again finishes it), never an event pointing
// at an identity that no longer exists. Callers hold the memory write lock around each call.
// Faces still carried by perceive's gating are dealt with where they are stored (PeopleStore.addFaces:
// a forgotten crop is gone, a merged one belongs to whoever holds it now), not here.
import type { PeopleStore } from '../repositories/people.js';
import type { MemoryStore } from '../repositories/memory-store.js';

export interface IdentityUpkeepDeps {
  people: Pick<PeopleStore, 'merge' | 'forget' | 'mergePlan' | 'identities'>;
  events: Pick<MemoryStore, 'replacePerson'>;
}

/** The person says two identities are one: `absorbed`'s faces and events become `kept`'s. */
export async function mergeIdentities(deps: IdentityUpkeepDeps, kept: string, absorbed: string): Promise<{ events: number }> {
  const known = new Set((await deps.people.identities()).map((p) => p.id));
  // Unknown ids (and merging one with itself) are refused by the people store, before any event moves.
  const events = known.has(kept) && known.has(absorbed) && kept !== absorbed ? await deps.events.replacePerson(absorbed, kept) : 0;
  await deps.people.merge(kept, absorbed);
  return { events };
}

/** Forgets a person: no event names it any more, then its identity, descriptors and crops are deleted. */
export async function forgetIdentity(deps: IdentityUpkeepDeps, id: string): Promise<{ faces: number; crops: number; events: number }> {
  const known = (await deps.people.identities()).some((p) => p.id === id);
  // An unknown id is refused by the people store with its own message; events are not touched.
  const events = known ? await deps.events.replacePerson(id, null) : 0;
  const gone = await deps.people.forget(id);
  return { ...gone, events };
}

/** The periodic pass: identities whose centroids drifted together are merged, events following. */
export async function reclusterIdentities(deps: IdentityUpkeepDeps): Promise<[string, string][]> {
  const plan = await deps.people.mergePlan();
  for (const [kept, absorbed] of plan) await mergeIdentities(deps, kept, absorbed);
  return plan;
}

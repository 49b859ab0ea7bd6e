// engram people: the identities face clustering found (list), and what a person does to them:
// name one, merge two that are the same person (their events follow), forget one (its descriptors
// and face crops are deleted and no event names it; nothing of it remains). Listing reads LanceDB
// only; the changes are memory writes, so they take the memory write lock (Redis) that
// consolidation holds while it writes, and wait for a batch in progress.
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import type { LoadedConfig } from '../../config/load.js';
import { forgetIdentity, mergeIdentities } from '../../pipelines/faces/identity-upkeep.js';
import { LocalBlobStore } from '../../pipelines/repositories/local-blob-store.js';
import { MemoryWriteLock } from '../../pipelines/repositories/memory-lock.js';
import { MemoryStore } from '../../pipelines/repositories/memory-store.js';
import { PeopleStore } from '../../pipelines/repositories/people.js';
import { personLine } from '../runtime/person-line.js';
import { load, logger, printJson, withContext } from './common.js';
import { blobStore, lanceAccess } from '../runtime/storage.js';

function requireFaces(loaded: LoadedConfig): void {
  if (!loaded.config.faces.enabled) throw new EngramError('faces are turned off (faces.enabled: false); there are no people to show or change', { exitCode: 2 });
}

/** Opens the people tables; `access` carries the commit lock when the command writes (changePeople). */
async function withPeople<T>(loaded: LoadedConfig, work: (people: PeopleStore) => Promise<T>, access = lanceAccess(loaded)): Promise<T> {
  requireFaces(loaded);
  const people = await PeopleStore.open(loaded.paths.lancedbUri, blobStore(loaded), loaded.config.faces, access);
  try {
    return await work(people);
  } finally {
    await people.close();
  }
}

/**
 * A change to people and the events that carry them, under the memory write lock, each commit
 * under the commit lock on object storage: safe while consolidate and the API write too.
 */
async function changePeople<T>(command: Command, work: (stores: { people: PeopleStore; events: MemoryStore }) => Promise<T>): Promise<T> {
  const loaded = load(command);
  requireFaces(loaded);
  return withContext(loaded, logger(loaded), async (context) => {
    const access = lanceAccess(loaded, context.redis);
    return withPeople(loaded, async (people) => {
      const events = await MemoryStore.open(loaded.paths.lancedbUri, { ...access, readConsistencySeconds: 0 });
      try {
        const lock = new MemoryWriteLock(context.redis.connection('memory-lock'), loaded.config.redis.prefix);
        return await lock.run(() => work({ people, events }), context.signal);
      } finally {
        await events.close();
      }
    }, access);
  });
}

export function registerPeople(program: Command): void {
  const people = program.command('people').description('the people recognised by their faces: list, name, merge, forget');
  people
    .command('list')
    .description('list identities, most recently seen first, with their sightings')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const lines = (await withPeople(load(command), (p) => p.list())).map(personLine);
      if (options.json) return printJson(lines);
      if (lines.length === 0) return void process.stdout.write('no people yet\n');
      for (const l of lines) {
        process.stdout.write(`${l.id}  ${l.name ?? '(unnamed)'}  ${l.faces} faces  ${l.firstSeen} .. ${l.lastSeen}\n`);
        for (const s of l.sightings) process.stdout.write(`    ${s.stream} ${s.start.toFixed(1)}-${s.end.toFixed(1)}s${s.eventId ? ` event ${s.eventId}` : ''}\n`);
      }
    });
  people
    .command('name <id> <name>')
    .description('give a person a name (used by questions such as "when did Alice come?")')
    .action(async (id: string, name: string, _options: unknown, command: Command) => {
      await changePeople(command, ({ people: p }) => p.name(id, name));
      process.stdout.write(`named ${id} ${JSON.stringify(name.trim())}\n`);
    });
  people
    .command('merge <kept> <absorbed>')
    .description('the two ids are one person: move every face and event of the second to the first')
    .action(async (kept: string, absorbed: string, _options: unknown, command: Command) => {
      const moved = await changePeople(command, (stores) => mergeIdentities(stores, kept, absorbed));
      process.stdout.write(`merged ${absorbed} into ${kept} (${moved.events} events)\n`);
    });
  people
    .command('forget <id>')
    .description('delete a person: identity, every face descriptor and face crop, and its id on every event')
    .action(async (id: string, _options: unknown, command: Command) => {
      const gone = await changePeople(command, (stores) => forgetIdentity(stores, id));
      process.stdout.write(`forgot ${id}: ${gone.faces} face descriptors and ${gone.crops} crops deleted, removed from ${gone.events} events\n`);
    });
}

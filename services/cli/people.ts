// engram people: the identities face clustering found (list), and what a person does to them:
// name one, merge two that are the same person, forget one (its descriptors and face crops are
// deleted; nothing of it remains). Reads and writes LanceDB and the blob store; needs no Redis.
import type { Command } from 'commander';
import { EngramError } from '../../config/errors.js';
import { PeopleStore } from '../../pipelines/repositories/people.js';
import { personLine } from '../runtime/person-line.js';
import { load, printJson } from './common.js';
import { blobStore, lanceAccess } from '../runtime/storage.js';

async function withPeople<T>(command: Command, work: (people: PeopleStore) => Promise<T>): Promise<T> {
  const loaded = load(command);
  if (!loaded.config.faces.enabled) throw new EngramError('faces are turned off (faces.enabled: false); there are no people to show or change', { exitCode: 2 });
  const people = await PeopleStore.open(loaded.paths.lancedbUri, blobStore(loaded), loaded.config.faces, lanceAccess(loaded).storageOptions);
  try {
    return await work(people);
  } finally {
    await people.close();
  }
}

export function registerPeople(program: Command): void {
  const people = program.command('people').description('the people recognised by their faces: list, name, merge, forget');
  people
    .command('list')
    .description('list identities, most recently seen first, with their sightings')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const lines = (await withPeople(command, (p) => p.list())).map(personLine);
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
      await withPeople(command, (p) => p.name(id, name));
      process.stdout.write(`named ${id} ${JSON.stringify(name.trim())}\n`);
    });
  people
    .command('merge <kept> <absorbed>')
    .description('the two ids are one person: move every face of the second into the first')
    .action(async (kept: string, absorbed: string, _options: unknown, command: Command) => {
      await withPeople(command, (p) => p.merge(kept, absorbed));
      process.stdout.write(`merged ${absorbed} into ${kept}\n`);
    });
  people
    .command('forget <id>')
    .description('delete a person: identity, every face descriptor and every face crop')
    .action(async (id: string, _options: unknown, command: Command) => {
      const gone = await withPeople(command, (p) => p.forget(id));
      process.stdout.write(`forgot ${id}: ${gone.faces} face descriptors and ${gone.crops} crops deleted\n`);
    });
}

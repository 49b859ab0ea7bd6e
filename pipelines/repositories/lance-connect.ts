// Opening LanceDB tables the same way everywhere: connect with a readable error, and create a
// table on first use, tolerating another process creating it at the same moment.
import * as lancedb from '@lancedb/lancedb';
import { EngramError } from '../../config/errors.js';
import { arrow } from './memory-schema.js';

export async function connectLance(uri: string, readConsistencySeconds = 0): Promise<lancedb.Connection> {
  try {
    return await lancedb.connect(uri, { readConsistencyInterval: readConsistencySeconds });
  } catch (error) {
    throw new EngramError(`cannot open LanceDB at ${uri}: ${(error as Error).message}`, { cause: error });
  }
}

/** Opens a table, creating it empty with `fields` when it does not exist yet. */
export async function openOrCreateTable(db: lancedb.Connection, existing: ReadonlySet<string>, name: string, fields: import('apache-arrow').Field[]): Promise<lancedb.Table> {
  if (existing.has(name)) return db.openTable(name);
  try {
    return await db.createEmptyTable(name, new arrow.Schema(fields), { mode: 'create', existOk: true });
  } catch (error) {
    // Another process created it between our listing and our create.
    if (/already exists/i.test((error as Error).message)) return db.openTable(name);
    throw error;
  }
}

// Opening LanceDB tables the same way everywhere: connect with a readable error, and create a
// table on first use, tolerating another process creating it at the same moment.
import * as lancedb from '@lancedb/lancedb';
import { EngramError } from '../../config/errors.js';
import type { StorageConfig } from '../../config/schema.js';
import { arrow } from './memory-schema.js';

/** True for s3://, gs://, az:// and other object-store URIs; false for a directory or file://. */
export function isObjectStoreUri(uri: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.toLowerCase().startsWith('file://');
}

/** The backend a LanceDB URI names, for status lines: local, s3, gs, az... */
export function lanceBackend(uri: string): string {
  return isObjectStoreUri(uri) ? (uri.slice(0, uri.indexOf(':')).toLowerCase().replace(/\+.*$/, '')) : 'local';
}

/**
 * LanceDB's storage options for a URI: an s3:// URI takes endpoint, region and credentials from
 * storage.s3 (plain HTTP allowed for an http:// endpoint, path-style addressing as configured);
 * storage.lancedbOptions is added last and wins. A local directory needs none.
 */
export function lanceStorageOptions(uri: string, storage: Pick<StorageConfig, 's3' | 'lancedbOptions'>): Record<string, string> {
  if (!isObjectStoreUri(uri)) return {};
  const out: Record<string, string> = {};
  if (/^s3(\+[a-z]+)?:\/\//i.test(uri)) {
    const s3 = storage.s3;
    out.region = s3.region;
    if (s3.endpoint !== '') out.endpoint = s3.endpoint;
    if (s3.endpoint.toLowerCase().startsWith('http://')) out.allow_http = 'true';
    if (s3.accessKeyId !== '') {
      out.aws_access_key_id = s3.accessKeyId;
      out.aws_secret_access_key = s3.secretAccessKey;
      if (s3.sessionToken !== '') out.aws_session_token = s3.sessionToken;
    }
    out.virtual_hosted_style_request = s3.forcePathStyle ? 'false' : 'true';
  }
  return { ...out, ...storage.lancedbOptions };
}

export async function connectLance(uri: string, readConsistencySeconds = 0, storageOptions: Record<string, string> = {}): Promise<lancedb.Connection> {
  try {
    return await lancedb.connect(uri, { readConsistencyInterval: readConsistencySeconds, storageOptions });
  } catch (error) {
    throw new EngramError(`cannot open LanceDB at ${uri}: ${(error as Error).message}`, { cause: error });
  }
}

/** Resolves when LanceDB at `uri` can be opened and its tables listed; throws saying why not. */
export async function probeLance(uri: string, storageOptions: Record<string, string>): Promise<void> {
  const db = await connectLance(uri, 0, storageOptions);
  try {
    await db.tableNames();
  } finally {
    db.close();
  }
}

/**
 * Opens a table, creating it empty with `fields` when it does not exist yet. A table missing from
 * `existing` is still tried by name first: listing tables on object storage depends on the store
 * answering delimiter listings (s3rver 3.7 answers none), and creating over a table that exists
 * with more columns fails with a schema mismatch.
 */
export async function openOrCreateTable(db: lancedb.Connection, existing: ReadonlySet<string>, name: string, fields: import('apache-arrow').Field[]): Promise<lancedb.Table> {
  if (existing.has(name)) return db.openTable(name);
  try {
    return await db.openTable(name);
  } catch (error) {
    if (!/not found|does not exist/i.test((error as Error).message)) throw error;
  }
  try {
    return await db.createEmptyTable(name, new arrow.Schema(fields), { mode: 'create', existOk: true });
  } catch (error) {
    // Another process created it between our listing and our create.
    if (/already exists/i.test((error as Error).message)) return db.openTable(name);
    throw error;
  }
}

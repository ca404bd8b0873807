// Turns the store setting (`sqlite`, `sqlite:<path>`, `postgres://...`) into an open Store, so the CLI and
// the server choose an adapter in one place and report a bad setting with one clear message.
import { join, resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Store } from './ports.ts';

export const DEFAULT_SQLITE_FILE_NAME = 'portcullis.db';

export const STORE_SPEC_FORMS =
  '"sqlite" (the file <data dir>/portcullis.db), "sqlite:<path>" (relative paths from the working directory, ' +
  '"sqlite::memory:" for a throwaway database) or "postgres://user@host:port/db[?schema=name]" ' +
  '(also "postgresql://")';

export interface OpenStoreOptions {
  /** Directory of the default SQLite file. */
  readonly dataDir: string;
  readonly clock?: Clock;
  /** How the setting is called where it came from (a flag or a variable), for error messages. */
  readonly settingName?: string;
}

export type StoreTarget =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly schema: string };

/** Parses a store setting without opening anything (exported for `portcullis validate` and tests). */
export function parseStoreSpec(spec: string, { dataDir, settingName = 'store' }: Omit<OpenStoreOptions, 'clock'>): StoreTarget {
  const text = typeof spec === 'string' ? spec.trim() : '';
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (text.toLowerCase() === 'sqlite' || scheme === 'sqlite') {
    const path = text.slice('sqlite'.length).replace(/^:/, '');
    if (path === '') return { kind: 'sqlite', file: join(resolve(dataDir), DEFAULT_SQLITE_FILE_NAME) };
    return { kind: 'sqlite', file: path === ':memory:' ? path : resolve(path) };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new Error(`the ${settingName} setting is not a valid PostgreSQL URL: ${redact(text)}; expected ${STORE_SPEC_FORMS}`);
    }
    const schemas = url.searchParams.getAll('schema');
    if (schemas.length > 1 || schemas[0] === '') {
      throw new Error(`the ${settingName} setting must give at most one non-empty ?schema= parameter: ${redact(text)}`);
    }
    url.searchParams.delete('schema');
    return { kind: 'postgres', url: url.toString(), schema: schemas[0] ?? 'public' };
  }
  throw new Error(`the ${settingName} setting ${JSON.stringify(redact(text))} is not a store location; expected ${STORE_SPEC_FORMS}`);
}

export async function openStore(spec: string, { dataDir, clock = systemClock, settingName }: OpenStoreOptions): Promise<Store> {
  const target = parseStoreSpec(spec, { dataDir, settingName });
  // Adapters load on demand: a single node never pays for the PostgreSQL driver, nor a cluster for SQLite.
  if (target.kind === 'sqlite') {
    const { createSqliteStore } = await import('./sqlite/sqlite-store.ts');
    return createSqliteStore({ file: target.file, clock });
  }
  const { createPostgresStore } = await import('./postgres/postgres-store.ts');
  return createPostgresStore({ url: target.url, schema: target.schema, clock });
}

/** Error messages end up in logs: never repeat a password given in the setting. */
function redact(text: string): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '***';
    if (url.searchParams.has('password')) url.searchParams.set('password', '***');
    return url.toString();
  } catch {
    return text.replace(/:\/\/([^:@/]*):[^@/]*@/, '://$1:***@');
  }
}

// Names for PostgreSQL: quoted identifiers, per-schema NOTIFY channel names, and a credential-free
// description of a connection URL for logs and /readyz.
import { createHash } from 'node:crypto';

/** PostgreSQL silently truncates identifiers (and channel names) longer than NAMEDATALEN - 1 bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * Quotes an identifier for interpolation into SQL (identifiers cannot be bind parameters). Rejects what
 * PostgreSQL would truncate or refuse rather than letting two different names end up the same.
 */
export function quoteIdentifier(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('PostgreSQL identifier must be a non-empty string');
  if (name.includes('\0')) throw new TypeError('PostgreSQL identifier must not contain NUL');
  if (Buffer.byteLength(name, 'utf8') > MAX_IDENTIFIER_BYTES) {
    throw new RangeError(`PostgreSQL identifier is longer than ${MAX_IDENTIFIER_BYTES} bytes: ${JSON.stringify(name)}`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * NOTIFY channels are per database, not per schema, so the channel carries the schema name: stores on
 * different schemas never hear each other. A schema too long to fit is replaced by a digest of it.
 */
export function notifyChannelName(schema: string, channel: string): string {
  const plain = `${schema}.${channel}`;
  if (Buffer.byteLength(plain, 'utf8') <= MAX_IDENTIFIER_BYTES) return plain;
  return `pc_${createHash('sha256').update(schema, 'utf8').digest('hex').slice(0, 32)}.${channel}`;
}

/**
 * `postgres://host:port/db?schema=name`, without user, password or any other query parameter (the pg driver
 * accepts `password` as a query parameter too, so none of them are safe to print).
 */
export function describePostgresUrl(url: string, schema: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `postgres (unparsable connection string) schema ${schema}`;
  }
  const socketHost = parsed.searchParams.get('host');
  const host = parsed.host || (socketHost ?? 'localhost');
  const db = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default database)';
  return `postgres://${host}/${db}?schema=${schema}`;
}

/** Node reports a refused connection to a multi-address host as an AggregateError with an empty message. */
export function describeError(err: unknown): string {
  if (err instanceof AggregateError && !err.message) return err.errors.map(describeError).join('; ');
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

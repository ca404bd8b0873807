// Input checks, timestamp handling and listener dispatch shared by the SQLite and PostgreSQL adapters,
// so both reject the same bad input with the same message and both behave alike for the contract suite.
import { createHash } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import {
  ADMIN_ROLES,
  type AdminRole,
  type AdminTokenRecord,
  type ChangeChannel,
  type DefinitionFormat,
  type NewRevision,
} from './ports.ts';

export const CHANGE_CHANNELS: readonly ChangeChannel[] = ['deployment', 'entities'];

/**
 * PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; SQLite has no limit, but enforcing the same
 * (lower, round) bound in both adapters keeps a development setup from hiding a production failure.
 */
export const MAX_CHANGE_PAYLOAD_BYTES = 4000;

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const FORMATS: readonly DefinitionFormat[] = ['yaml', 'json'];

export function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}

/** Accepts any string Date can parse and stores it as ISO 8601 UTC, so both adapters return the same text. */
export function normalizeTimestamp(value: string, what: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new TypeError(`${what} must be an ISO 8601 timestamp, got ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

export interface CheckedRevision {
  readonly source: string;
  readonly format: DefinitionFormat;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly comment: string | null;
  readonly createdBy: string | null;
}

/** The digest is re-computed: a revision whose sha256 does not describe its source would defeat its purpose. */
export function checkNewRevision(input: NewRevision): CheckedRevision {
  if (typeof input.source !== 'string') throw new TypeError('revision source must be a string');
  if (!FORMATS.includes(input.format)) {
    throw new TypeError(`revision format must be one of ${FORMATS.join(', ')}, got ${JSON.stringify(input.format)}`);
  }
  if (typeof input.sha256 !== 'string' || !HEX_SHA256.test(input.sha256)) {
    throw new TypeError('revision sha256 must be 64 lower-case hex digits');
  }
  const actual = createHash('sha256').update(input.source, 'utf8').digest('hex');
  if (actual !== input.sha256) throw new TypeError('revision sha256 does not match its source');
  return {
    source: input.source,
    format: input.format,
    sha256: input.sha256,
    sizeBytes: Buffer.byteLength(input.source, 'utf8'),
    comment: optionalText(input.comment, 'revision comment'),
    createdBy: optionalText(input.createdBy, 'revision createdBy'),
  };
}

export function checkNewAdminToken(
  record: Omit<AdminTokenRecord, 'revokedAt' | 'lastUsedAt'>,
): Omit<AdminTokenRecord, 'revokedAt' | 'lastUsedAt'> {
  for (const field of ['id', 'name', 'hint'] as const) {
    if (typeof record[field] !== 'string' || record[field].length === 0) {
      throw new TypeError(`admin token ${field} must be a non-empty string`);
    }
  }
  if (!ADMIN_ROLES.includes(record.role as AdminRole)) {
    throw new TypeError(`admin token role must be one of ${ADMIN_ROLES.join(', ')}, got ${JSON.stringify(record.role)}`);
  }
  if (typeof record.hash !== 'string' || !HEX_SHA256.test(record.hash)) {
    throw new TypeError('admin token hash must be 64 lower-case hex digits (SHA-256)');
  }
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    hash: record.hash,
    hint: record.hint,
    createdAt: normalizeTimestamp(record.createdAt, 'admin token createdAt'),
  };
}

/** undefined means "no limit"; anything else must be a non-negative integer. */
export function checkLimit(limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  return limit;
}

export function checkRevisionNumber(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value)) throw new RangeError(`${what} must be an integer, got ${value}`);
  return value;
}

export function checkChannel(channel: ChangeChannel): ChangeChannel {
  if (!CHANGE_CHANNELS.includes(channel)) {
    throw new TypeError(`change channel must be one of ${CHANGE_CHANNELS.join(', ')}, got ${JSON.stringify(channel)}`);
  }
  return channel;
}

export function checkPayload(payload: string): string {
  if (typeof payload !== 'string') throw new TypeError('change payload must be a string');
  const size = Buffer.byteLength(payload, 'utf8');
  if (size > MAX_CHANGE_PAYLOAD_BYTES) {
    throw new RangeError(`change payload is ${size} bytes; the limit is ${MAX_CHANGE_PAYLOAD_BYTES}`);
  }
  return payload;
}

export function checkMetaKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new TypeError('meta key must be a non-empty string');
  return key;
}

export function checkMetaValue(value: string): string {
  if (typeof value !== 'string') throw new TypeError('meta value must be a string');
  return value;
}

/**
 * Calls every listener on its own: one throwing listener (a bug) must neither stop the others nor break the
 * notifier's connection handling, so the error is surfaced as a process warning instead of being thrown.
 */
export function dispatch(listeners: Iterable<(payload: string) => void>, payload: string): void {
  for (const listener of [...listeners]) {
    try {
      listener(payload);
    } catch (err) {
      // Passed as text: Node ignores the code option when the warning is an Error object.
      const error = err instanceof Error ? err : new Error(String(err));
      process.emitWarning(`a change listener threw: ${error.message}`, {
        code: 'PORTCULLIS_CHANGE_LISTENER',
        detail: error.stack,
      });
    }
  }
}

/** True when a driver error carries one of the given codes (SQLite extended codes or PostgreSQL SQLSTATEs). */
export function hasErrorCode(err: unknown, codes: readonly string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes(String((err as { code?: unknown }).code));
}

function optionalText(value: string | null | undefined, what: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new TypeError(`${what} must be a string or null`);
  return value;
}

// The audit chain: how an event is sealed (SHA-256 of its canonical JSON, which names its predecessor's hash and
// its own sequence number), how a digest signs the chain head (Ed25519), and how both are verified, reporting
// which event was modified, inserted or deleted and where the log was truncated.
import { createHash, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';
import type { AuditDigestRow, AuditEventRow, ChainedAuditEvent, NewAuditDigest } from '../store/audit-port.ts';
import type { AuditSigningKey } from './signing-key.ts';

export const GENESIS_HASH = '0'.repeat(64);

export const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

/** An event as built by the recorder, before the chain fields are added. */
export interface AuditEventFields {
  readonly eventID: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly [field: string]: unknown;
}

export function chainEvent(
  fields: AuditEventFields,
  actor: string | null,
  head: { seq: number; hash: string } | undefined,
): ChainedAuditEvent {
  const body = canonicalJson({ ...fields, sequenceNumber: (head?.seq ?? 0) + 1, previousHash: head?.hash ?? GENESIS_HASH });
  return { eventId: fields.eventID, eventTime: fields.eventTime, eventName: fields.eventName, actor, body, hash: sha256Hex(body) };
}

export interface DigestFields {
  readonly digestVersion: '1';
  readonly digestStartTime: string;
  readonly digestEndTime: string;
  readonly fromSequenceNumber: number;
  readonly toSequenceNumber: number;
  readonly headHash: string;
  readonly oldestEventTime: string | null;
  readonly newestEventTime: string;
  readonly previousDigestSequenceNumber: number | null;
  readonly previousDigestSignature: string | null;
  readonly publicKeyFingerprint: string;
  readonly signatureAlgorithm: 'Ed25519';
}

/** The next digest, or undefined when no event arrived since the previous one. */
export function buildDigest(
  key: AuditSigningKey,
  now: string,
  head: AuditEventRow | undefined,
  previous: AuditDigestRow | undefined,
): NewAuditDigest | undefined {
  if (!head || (previous && head.seq <= previous.toSeq)) return undefined;
  const prev = previous ? (JSON.parse(previous.body) as DigestFields) : undefined;
  const fields: DigestFields = {
    digestVersion: '1',
    digestStartTime: prev?.digestEndTime ?? (JSON.parse(head.body) as { eventTime: string }).eventTime,
    digestEndTime: now,
    fromSequenceNumber: (previous?.toSeq ?? 0) + 1,
    toSequenceNumber: head.seq,
    headHash: head.hash,
    oldestEventTime: null,
    newestEventTime: head.eventTime,
    previousDigestSequenceNumber: previous?.seq ?? null,
    previousDigestSignature: previous?.signature ?? null,
    publicKeyFingerprint: key.fingerprint,
    signatureAlgorithm: 'Ed25519',
  };
  const body = canonicalJson(fields);
  return {
    fromSeq: fields.fromSequenceNumber,
    toSeq: fields.toSequenceNumber,
    createdAt: now,
    body,
    signature: sign(null, Buffer.from(body), key.privateKey).toString('base64'),
  };
}

export type AuditProblemKind =
  | 'modified'
  | 'inserted'
  | 'deleted'
  | 'truncated'
  | 'digest-modified'
  | 'digest-deleted'
  | 'digest-signature'
  | 'digest-unknown-key'
  | 'digest-mismatch';

export interface AuditProblem {
  readonly kind: AuditProblemKind;
  /** The event (or digest, for digest-*) sequence number concerned. */
  readonly seq: number;
  /** For deletions: the range of sequence numbers missing. */
  readonly toSeq?: number;
  readonly message: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly eventsChecked: number;
  readonly digestsChecked: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  /** Events after the last digest: chained, but not yet signed (see docs/audit.md). */
  readonly unsignedTail: number;
  readonly problems: AuditProblem[];
}

interface ParsedEvent {
  readonly row: AuditEventRow;
  /** The sequence number the event was sealed with (its body), whatever the seq column says now. */
  readonly seq: number;
  readonly previousHash: string;
  readonly selfOk: boolean;
  /** Its broken link is explained by the event before it (an insertion already reported). */
  skipLink: boolean;
}

/**
 * Streaming verifier: `expectDigests` first (it learns which event hashes to remember), then the events in stored
 * order, then `finish`. Memory stays small: a window of four events and one hash per digest.
 */
export function createChainVerifier(options: { publicKeys: Map<string, KeyObject>; fromSeq?: number; toSeq?: number }) {
  const problems: AuditProblem[] = [];
  let checked = 0;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  const win: ParsedEvent[] = [];
  const hashBySeq = new Map<number, string>();
  let digests: readonly AuditDigestRow[] = [];

  const report = (kind: AuditProblemKind, seq: number, message: string, toSeq?: number) =>
    problems.push({ kind, seq, message, ...(toSeq !== undefined ? { toSeq } : {}) });

  function parse(row: AuditEventRow): ParsedEvent {
    let seq = row.seq;
    let previousHash = '';
    let selfOk = sha256Hex(row.body) === row.hash;
    try {
      const body = JSON.parse(row.body) as { sequenceNumber?: unknown; previousHash?: unknown };
      if (typeof body.sequenceNumber === 'number') seq = body.sequenceNumber;
      if (typeof body.previousHash === 'string') previousHash = body.previousHash;
    } catch {
      selfOk = false;
    }
    return { row, seq, previousHash, selfOk, skipLink: false };
  }

  /** Judges the link into `cur` from `before`, with the event two back and the one after as witnesses. */
  function judge(beforeBefore: ParsedEvent | undefined, before: ParsedEvent, cur: ParsedEvent, next: ParsedEvent | undefined) {
    if (cur.skipLink || cur.previousHash === before.row.hash) return;
    if (cur.seq > before.seq + 1) {
      report('deleted', before.seq + 1, `events ${before.seq + 1}..${cur.seq - 1} were deleted: event ${cur.seq} names a predecessor that is missing`, cur.seq - 1);
    } else if (!before.selfOk) {
      // Already reported: `before` was edited without fixing its hash.
    } else if (next && next.previousHash === before.row.hash) {
      report('inserted', cur.seq, `an event was inserted at seq ${cur.row.seq} (${cur.row.eventName}, ${cur.row.eventId}): the event after it chains onto the one before it`);
      next.skipLink = true;
    } else if (beforeBefore && cur.previousHash === beforeBefore.row.hash) {
      report('inserted', before.seq, `an event was inserted at seq ${before.row.seq} (${before.row.eventName}, ${before.row.eventId}): the event after it chains onto the one before it`);
    } else {
      report('modified', before.seq, `event ${before.seq} was modified and re-hashed: event ${cur.seq} recorded a different hash for it`);
    }
  }

  function step(final: boolean) {
    // Judge win[len-2] (or the last one when finishing) with its neighbours.
    const i = final ? win.length - 1 : win.length - 2;
    if (i < 1) return;
    judge(win[i - 2], win[i - 1]!, win[i]!, final ? undefined : win[i + 1]);
  }

  return {
    expectDigests(rows: readonly AuditDigestRow[]): void {
      digests = rows;
      for (const d of rows) hashBySeq.set(d.toSeq, '');
    },
    addEvent(row: AuditEventRow): void {
      const e = parse(row);
      checked++;
      if (firstSeq === null) {
        firstSeq = e.seq;
        if (options.fromSeq === undefined && e.seq === 1 && e.previousHash !== GENESIS_HASH && e.selfOk) {
          report('modified', 1, 'event 1 does not start the chain');
        } else if (options.fromSeq === undefined && e.seq > 1) {
          report('deleted', 1, `events 1..${e.seq - 1} were deleted: the log starts at event ${e.seq}`, e.seq - 1);
        }
      }
      lastSeq = e.seq;
      if (hashBySeq.has(e.seq)) hashBySeq.set(e.seq, row.hash);
      if (!e.selfOk) report('modified', e.seq, `event ${e.seq} was modified: its content does not match its hash`);
      win.push(e);
      step(false);
      if (win.length > 3) win.shift();
    },
    finish(): VerifyReport {
      if (win.length >= 2) step(true);
      let previous: { row: AuditDigestRow; fields: DigestFields } | undefined;
      let lastSigned = 0;
      for (const d of digests) {
        let fields: DigestFields;
        try {
          fields = JSON.parse(d.body) as DigestFields;
        } catch {
          report('digest-modified', d.seq, `digest ${d.seq} is not valid JSON`);
          continue;
        }
        const key = options.publicKeys.get(fields.publicKeyFingerprint);
        if (!key) {
          report('digest-unknown-key', d.seq, `digest ${d.seq} is signed by key ${String(fields.publicKeyFingerprint).slice(0, 16)}…, which is not a trusted public key`);
        } else if (!verify(null, Buffer.from(d.body), key, Buffer.from(d.signature, 'base64'))) {
          report('digest-signature', d.seq, `digest ${d.seq} has an invalid signature: it was modified or forged`);
        }
        if (fields.fromSequenceNumber !== d.fromSeq || fields.toSequenceNumber !== d.toSeq) {
          report('digest-modified', d.seq, `digest ${d.seq}'s stored range does not match its signed content`);
        }
        if (previous) {
          if (fields.previousDigestSignature !== previous.row.signature || fields.fromSequenceNumber !== previous.fields.toSequenceNumber + 1) {
            report('digest-deleted', d.seq, `the digest chain is broken before digest ${d.seq}: a digest was deleted or replaced`);
          }
        } else if (d.seq > 1 || fields.previousDigestSignature !== null) {
          report('digest-deleted', d.seq, `digests before digest ${d.seq} are missing`);
        }
        previous = { row: d, fields };
        lastSigned = Math.max(lastSigned, fields.toSequenceNumber);
        const to = fields.toSequenceNumber;
        if ((options.fromSeq !== undefined && to < options.fromSeq) || (options.toSeq !== undefined && to > options.toSeq)) continue;
        const stored = hashBySeq.get(to);
        if (!stored) {
          if (lastSeq === null || to > lastSeq) {
            report('truncated', (lastSeq ?? 0) + 1, `the log was truncated after event ${lastSeq ?? 0}: digest ${d.seq} signed events up to ${to}`, to);
          } else {
            report('deleted', to, `event ${to}, sealed by digest ${d.seq}, is missing`, to);
          }
        } else if (stored !== fields.headHash) {
          report('digest-mismatch', to, `event ${to} does not match the hash digest ${d.seq} signed: it was modified or replaced`);
        }
      }
      const seen = new Set<string>();
      const unique = problems.filter((p) => {
        const k = `${p.kind}:${p.seq}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
      unique.sort((a, b) => a.seq - b.seq);
      return {
        ok: unique.length === 0,
        eventsChecked: checked,
        digestsChecked: digests.length,
        firstSeq,
        lastSeq,
        unsignedTail: lastSeq === null ? 0 : Math.max(0, lastSeq - lastSigned),
        problems: unique,
      };
    },
  };
}

// The audit recorder: turns a control-plane action into one CloudTrail-shaped event, appends it to the chained
// store, copies it to the live sinks, and seals the chain with a signed digest at a fixed interval and on close.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../observe/logger.ts';
import type { AuditDigestRow, AuditListOptions, AuditStore } from '../store/audit-port.ts';
import { buildDigest, chainEvent, type VerifyReport } from './chain.ts';
import { verifyAuditTrail } from './verify.ts';
import { readPublicKeys } from './signing-key.ts';
import { auditElement } from './redact.ts';
import type { AuditSigningKey } from './signing-key.ts';

export const AUDIT_EVENT_VERSION = '1.0';
export const AUDIT_EVENT_SOURCE = 'portcullis.admin';

export interface AuditIdentity {
  /** `AdminToken` for a bearer token, `Anonymous` when none was valid, `Gateway` for the gateway's own actions. */
  readonly type: 'AdminToken' | 'Anonymous' | 'Gateway';
  readonly principalId?: string;
  readonly userName?: string;
  readonly role?: string;
}

export interface AuditInput {
  readonly eventName: string;
  readonly userIdentity: AuditIdentity;
  readonly sourceIPAddress?: string | null;
  readonly userAgent?: string | null;
  readonly requestParameters?: unknown;
  readonly responseElements?: unknown;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly requestID?: string;
  readonly readOnly: boolean;
  /** Extra fields (for example `additionalEventData`), redacted like the rest. */
  readonly additionalEventData?: unknown;
}

/** The event as stored and exported (one JSON Lines line each). */
export interface AuditEvent {
  readonly eventVersion: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly eventType: 'PortcullisApiCall' | 'PortcullisServiceEvent';
  readonly userIdentity: AuditIdentity;
  readonly sourceIPAddress: string | null;
  readonly userAgent: string | null;
  readonly requestParameters: unknown;
  readonly responseElements: unknown;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly requestID: string;
  readonly eventID: string;
  readonly readOnly: boolean;
  readonly managementEvent: true;
  readonly sequenceNumber: number;
  readonly previousHash: string;
}

export interface AuditSink {
  /** Called after the event is stored; must not throw or block (queue internally). */
  write(event: AuditEvent, line: string): void;
  close(): Promise<void>;
}

export interface AuditTrailOptions {
  readonly store: AuditStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly signingKey: AuditSigningKey;
  /** Record successful reads too (failed ones, such as authentication failures, are always recorded). */
  readonly auditReads?: boolean;
  /** Interval between digests (default one hour, as CloudTrail); 0 disables the timer (digests on close only). */
  readonly digestIntervalMs?: number;
  readonly sinks?: readonly AuditSink[];
  /** Public keys (PEM) of other nodes sharing the store, trusted by `verify`. */
  readonly extraPublicKeys?: readonly string[];
  /** Called when an event could not be stored (the caller's metric). */
  readonly onFailure?: (err: unknown) => void;
}

export interface AuditTrail {
  readonly auditReads: boolean;
  readonly publicKeyPem: string;
  readonly publicKeyFingerprint: string;
  record(input: AuditInput): Promise<AuditEvent>;
  /** Seals the events since the last digest now; undefined when there were none. */
  digestNow(): Promise<AuditDigestRow | undefined>;
  /** Stored events, oldest first, each with its sequence number and hash. */
  list(options?: AuditListOptions): Promise<Array<AuditEvent & { eventHash: string }>>;
  /** Checks the chain and the digests against this node's key and `extraPublicKeys`. */
  verify(range?: { fromSeq?: number; toSeq?: number }): Promise<VerifyReport>;
  /** Stops the timer, writes a final digest and closes the sinks. */
  close(): Promise<void>;
}

const MAX_EVENT_NAME = 128;
const MAX_TEXT = 1024;
const clip = (v: string | null | undefined, n = MAX_TEXT): string | null => (v == null ? null : v.length > n ? v.slice(0, n) : v);

export function createAuditTrail({
  store,
  clock,
  logger: parentLogger,
  signingKey,
  auditReads = false,
  digestIntervalMs = 60 * 60 * 1000,
  sinks = [],
  extraPublicKeys = [],
  onFailure,
}: AuditTrailOptions): AuditTrail {
  const trustedKeys = readPublicKeys([signingKey.publicKeyPem, ...extraPublicKeys]);
  const logger = parentLogger.child({ component: 'audit' });
  let timer: NodeJS.Timeout | undefined;
  if (digestIntervalMs > 0) {
    timer = setInterval(() => {
      digestNow().catch((err: unknown) => logger.error({ err: String(err) }, 'could not write an audit digest'));
    }, digestIntervalMs);
    timer.unref();
  }

  async function digestNow() {
    const now = new Date(clock.now()).toISOString();
    return store.appendDigest((head, previous) => buildDigest(signingKey, now, head, previous));
  }

  async function record(input: AuditInput): Promise<AuditEvent> {
    const fields = {
      eventVersion: AUDIT_EVENT_VERSION,
      eventTime: new Date(clock.now()).toISOString(),
      eventSource: AUDIT_EVENT_SOURCE,
      eventName: clip(input.eventName, MAX_EVENT_NAME) ?? 'Unknown',
      eventType: input.userIdentity.type === 'Gateway' ? ('PortcullisServiceEvent' as const) : ('PortcullisApiCall' as const),
      userIdentity: input.userIdentity,
      sourceIPAddress: clip(input.sourceIPAddress),
      userAgent: clip(input.userAgent),
      requestParameters: auditElement(input.requestParameters),
      responseElements: auditElement(input.responseElements),
      ...(input.errorCode !== undefined ? { errorCode: input.errorCode, errorMessage: clip(input.errorMessage ?? '') ?? '' } : {}),
      ...(input.additionalEventData !== undefined ? { additionalEventData: auditElement(input.additionalEventData) } : {}),
      requestID: input.requestID ?? randomUUID(),
      eventID: randomUUID(),
      readOnly: input.readOnly,
      managementEvent: true as const,
    };
    const actor = input.userIdentity.principalId ?? null;
    let row;
    try {
      row = await store.append((head) => chainEvent(fields, actor, head));
    } catch (err) {
      onFailure?.(err);
      throw err;
    }
    const event = JSON.parse(row.body) as AuditEvent;
    for (const sink of sinks) {
      try {
        sink.write(event, row.body);
      } catch (err) {
        logger.warn({ err: String(err) }, 'an audit sink failed');
      }
    }
    return event;
  }

  return {
    auditReads,
    publicKeyPem: signingKey.publicKeyPem,
    publicKeyFingerprint: signingKey.fingerprint,
    record,
    digestNow,
    async list(options = {}) {
      const rows = await store.list(options);
      return rows.map((r) => ({ ...(JSON.parse(r.body) as AuditEvent), eventHash: r.hash }));
    },
    verify: (range = {}) => verifyAuditTrail(store, trustedKeys, range),
    async close() {
      clearInterval(timer);
      try {
        await digestNow();
      } catch (err) {
        logger.error({ err: String(err) }, 'could not write the closing audit digest');
      }
      await Promise.all(sinks.map((s) => s.close().catch(() => undefined)));
    },
  };
}

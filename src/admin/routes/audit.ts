// Admin API routes of the audit trail: look up events (JSON or JSON Lines export), verify the chain, the public
// key that signs digests, and an on-demand digest. Wired into admin-server.ts's route table.
import type { AdminRole } from '../../store/ports.ts';
import type { AuditTrail } from '../../audit/audit-trail.ts';
import { AdminHttpError } from '../admin-errors.ts';

interface State {
  readonly query: URLSearchParams;
}
interface Deps {
  readonly audit?: AuditTrail;
}
type Reply = { readonly status: number; readonly json: unknown } | { readonly status: number; readonly text: string; readonly contentType: string };
interface AuditRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly role: AdminRole;
  readonly eventName: string;
  readonly query?: readonly string[];
  readonly handle: (state: State, deps: Deps) => Promise<Reply>;
}

const trail = (deps: Deps): AuditTrail => {
  if (!deps.audit) throw new AdminHttpError('NOT_FOUND', 'the audit trail is not enabled on this server');
  return deps.audit;
};

function seqParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw new AdminHttpError('BAD_REQUEST', `${name} must be a sequence number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function timeParam(query: URLSearchParams, name: string): string | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new AdminHttpError('BAD_REQUEST', `${name} must be an ISO 8601 time, got ${JSON.stringify(raw)}`);
  return new Date(ms).toISOString();
}

export const AUDIT_ROUTES: readonly AuditRoute[] = Object.freeze([
  {
    method: 'GET',
    path: '/v1/audit/events',
    role: 'admin',
    eventName: 'LookupEvents',
    query: ['since', 'until', 'event', 'actor', 'after', 'limit', 'format'],
    handle: async ({ query }, deps) => {
      const limit = seqParam(query, 'limit') ?? 1000;
      if (limit < 1 || limit > 10_000) throw new AdminHttpError('BAD_REQUEST', 'limit must be from 1 to 10000');
      const format = query.get('format') ?? 'json';
      if (format !== 'json' && format !== 'jsonl') throw new AdminHttpError('BAD_REQUEST', 'format must be json or jsonl');
      const events = await trail(deps).list({
        afterSeq: seqParam(query, 'after'),
        since: timeParam(query, 'since'),
        until: timeParam(query, 'until'),
        eventName: query.get('event') ?? undefined,
        actor: query.get('actor') ?? undefined,
        limit,
      });
      const nextAfter = events.length === limit ? events[events.length - 1]!.sequenceNumber : null;
      if (format === 'jsonl') {
        return { status: 200, contentType: 'application/x-ndjson', text: events.map((e) => JSON.stringify(e) + '\n').join('') };
      }
      return { status: 200, json: { events, nextAfter } };
    },
  },
  {
    method: 'GET',
    path: '/v1/audit/verify',
    role: 'admin',
    eventName: 'ValidateAuditTrail',
    query: ['from', 'to'],
    handle: async ({ query }, deps) => {
      const report = await trail(deps).verify({ fromSeq: seqParam(query, 'from'), toSeq: seqParam(query, 'to') });
      return { status: 200, json: report };
    },
  },
  {
    method: 'GET',
    path: '/v1/audit/public-key',
    role: 'read-only',
    eventName: 'GetAuditPublicKey',
    handle: async (_state, deps) => {
      const t = trail(deps);
      return { status: 200, json: { fingerprint: t.publicKeyFingerprint, algorithm: 'Ed25519', publicKeyPem: t.publicKeyPem } };
    },
  },
  {
    method: 'POST',
    path: '/v1/audit/digests',
    role: 'admin',
    eventName: 'CreateAuditDigest',
    handle: async (_state, deps) => {
      const digest = await trail(deps).digestNow();
      return { status: digest ? 201 : 200, json: { digest: digest ? { ...digest, body: JSON.parse(digest.body) } : null } };
    },
  },
]);

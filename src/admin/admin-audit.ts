// The admin API's one audit hook: after a request is answered (or refused), it becomes one audit event with the
// route's eventName, the caller's token, the redacted parameters and response, and the error when it failed.
// Every route in the table, including those other capabilities add, goes through here.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AuditIdentity, AuditTrail } from '../audit/audit-trail.ts';
import type { AdminTokenRecord } from '../store/ports.ts';

const bodies = new WeakMap<IncomingMessage, unknown>();
const callers = new WeakMap<IncomingMessage, AdminTokenRecord>();

/** Remembers a valid token even when its role is refused, so a FORBIDDEN event names who tried. */
export function noteCaller(req: IncomingMessage, token: AdminTokenRecord): void {
  callers.set(req, token);
}

/** Remembers what a handler read from the body, for requestParameters (secrets are redacted later). */
export function captureRequestBody(req: IncomingMessage, value: unknown): void {
  bodies.set(req, value);
}

/** A definition is summarised, not copied: it can be megabytes, and its source is already a stored revision. */
export function definitionSummary(body: Buffer, format: string | undefined) {
  return { definition: { format: format ?? null, sizeBytes: body.length, sha256: createHash('sha256').update(body).digest('hex') } };
}

const VERBS: Readonly<Record<string, string>> = { GET: 'Get', HEAD: 'Get', POST: 'Create', PUT: 'Put', PATCH: 'Update', DELETE: 'Delete' };

const pascal = (segment: string) =>
  segment
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
const singular = (word: string) => (word.endsWith('ies') ? `${word.slice(0, -3)}y` : word.endsWith('s') ? word.slice(0, -1) : word);

/**
 * AWS-style operation names from a route: GET /v1/api-keys -> ListApiKeys, GET /v1/api-keys/{id} -> GetApiKey,
 * POST /v1/api-keys -> CreateApiKey, DELETE /v1/api-keys/{id} -> DeleteApiKey, POST /v1/api-keys/{id}/rotate ->
 * RotateApiKey. A route can name itself instead (RouteSpec.eventName).
 */
export function deriveEventName(method: string, path: string): string {
  const segments = path.split('/').filter((s) => s && s !== 'v1');
  const literals = segments.filter((s) => !s.startsWith('{'));
  const endsWithParam = (segments[segments.length - 1] ?? '').startsWith('{');
  const resources = literals.map(pascal);
  const one = (names: string[]) => names.map(singular).join('');
  if (method === 'GET') {
    if (endsWithParam) return `Get${one(resources)}`;
    return `List${one(resources.slice(0, -1))}${resources[resources.length - 1] ?? ''}`;
  }
  if (!endsWithParam && literals.length >= 2 && !literals[literals.length - 1]!.endsWith('s')) {
    // An action on a collection or an item: POST /v1/x/{id}/rotate -> RotateX, POST /v1/x/import -> ImportX.
    const action = resources.pop()!;
    return action + one(resources);
  }
  const verb = method === 'POST' && endsWithParam ? 'Update' : (VERBS[method] ?? pascal(method.toLowerCase()));
  return verb + one(resources);
}

export interface AdminAuditInput {
  readonly req: IncomingMessage;
  readonly method: string;
  readonly routePath: string;
  readonly eventName?: string;
  readonly token: AdminTokenRecord | undefined;
  readonly requestId: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly status: number;
  readonly json: unknown;
}

/** Whether this answered request is recorded: every change, every refusal, and reads when configured. */
export function isAudited(audit: AuditTrail, method: string, status: number): boolean {
  const read = method === 'GET' || method === 'HEAD';
  return !read || audit.auditReads || status === 401 || status === 403;
}

export async function auditAdminRequest(audit: AuditTrail, input: AdminAuditInput): Promise<void> {
  const { req, status } = input;
  const token = input.token ?? callers.get(req);
  const read = input.method === 'GET' || input.method === 'HEAD';
  const userIdentity: AuditIdentity = token
    ? { type: 'AdminToken', principalId: token.id, userName: token.name, role: token.role }
    : { type: 'Anonymous' };
  const query = Object.fromEntries(input.query);
  const body = bodies.get(req);
  const requestParameters = {
    ...input.params,
    ...(Object.keys(query).length ? { query } : {}),
    ...(body !== undefined ? (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : { body }) : {}),
  };
  const error = status >= 400 ? (input.json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error : undefined;
  await audit.record({
    eventName: input.eventName ?? deriveEventName(input.method === 'HEAD' ? 'GET' : input.method, input.routePath),
    userIdentity,
    sourceIPAddress: req.socket.remoteAddress ?? null,
    userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
    requestParameters: Object.keys(requestParameters).length ? requestParameters : null,
    // Reads can answer megabytes that are not changes; CloudTrail records them without a response either.
    responseElements: read || status >= 400 ? null : (input.json ?? null),
    ...(status >= 400
      ? {
          errorCode: typeof error?.code === 'string' ? error.code : `HTTP_${status}`,
          errorMessage: typeof error?.message === 'string' ? error.message : '',
        }
      : {}),
    requestID: input.requestId,
    readOnly: read,
  });
}

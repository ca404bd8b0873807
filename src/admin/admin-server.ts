// The admin REST API on node:http: health and readiness probes, metrics, validate/deploy/rollback,
// revisions and admin tokens, with bearer-token roles. The route table below is the one list of endpoints.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observe/logger.ts';
import type { Clock } from '../core/clock.ts';
import { newRequestId } from '../core/ids.ts';
import { DefinitionError } from '../config/load.ts';
import { ControlError } from '../control/control-errors.ts';
import type { ControlPlane, DeployOutcome } from '../control/control-plane.ts';
import { ADMIN_ROLES, type AdminRole, type AdminTokenRecord, type DefinitionFormat } from '../store/ports.ts';
import { ADMIN_ERRORS, AdminHttpError, type AdminErrorCode } from './admin-errors.ts';
import { ADMIN_OPENAPI } from './openapi.ts';
import { KEY_ROUTES } from './routes/keys.ts';
import { IAM_ROUTES } from './routes/iam.ts';
import type { KeyService } from '../keys/key-service.ts';
import type { AuditTrail } from '../audit/audit-trail.ts';
import { auditAdminRequest, captureRequestBody, definitionSummary, isAudited, noteCaller } from './admin-audit.ts';
import { AUDIT_ROUTES } from './routes/audit.ts';
import { ALARM_ROUTES } from './routes/alarms.ts';
import type { Monitor } from '../observe/alarms/monitor.ts';
import type { RuntimeAlarms } from '../observe/alarms/runtime-alarms.ts';
import type { IamService } from '../iam/iam-service.ts';
import { checkFields, definitionFormat, hasBody, parseJsonObject, readBody } from './request-body.ts';

export interface AdminServerOptions {
  readonly controlPlane: ControlPlane;
  readonly metrics: { render(): Promise<string>; readonly contentType: string };
  readonly readiness: () => Promise<{ ready: boolean; checks: Record<string, string> }>;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Definitions can be large (thousands of routes); everything else is a small JSON object. */
  readonly maxDefinitionBytes?: number;
  readonly maxJsonBytes?: number;
  /** API keys, usage plans and usage (routes/keys.ts); absent: those routes answer 404. */
  readonly apiKeys?: KeyService;
  /** The audit trail (admin-audit.ts): every change and refusal is recorded; absent: nothing is. */
  readonly audit?: AuditTrail;
  /** IAM policies, principals and access keys (routes/iam.ts); absent: those routes answer 404. */
  readonly iam?: IamService;
  /** Alarm states and blocked sources (routes/alarms.ts); absent: those routes answer 404. */
  readonly monitor?: Monitor;
  /** Alarms defined through the admin API (routes/alarms.ts). */
  readonly runtimeAlarms?: RuntimeAlarms;
}

export interface AdminServer {
  listen(host: string, port: number): Promise<{ host: string; port: number }>;
  close(): Promise<void>;
  readonly server: http.Server;
}

type Method = 'GET' | 'POST' | 'DELETE';

interface RequestState {
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly token: AdminTokenRecord | undefined;
  readonly requestId: string;
}

type Reply =
  | { readonly status: number; readonly json: unknown }
  | { readonly status: number; readonly text: string; readonly contentType: string };

interface RouteSpec {
  readonly method: Method;
  readonly path: string;
  /** The least role that may call the route; null: no token needed. */
  readonly role: AdminRole | null;
  /** Query parameters the route reads; any other is refused (a misspelt `limt` should not be ignored). */
  readonly query?: readonly string[];
  /** The audit event name (AWS style, e.g. CreateApiKey); default derived from method and path (admin-audit.ts). */
  readonly eventName?: string;
  readonly handle: (state: RequestState, deps: HandlerDeps) => Promise<Reply>;
}

interface HandlerDeps {
  readonly controlPlane: ControlPlane;
  readonly metrics: AdminServerOptions['metrics'];
  readonly readiness: AdminServerOptions['readiness'];
  readonly apiKeys?: KeyService;
  readonly audit?: AuditTrail;
  readonly monitor?: Monitor;
  readonly runtimeAlarms?: RuntimeAlarms;
  readonly iam?: IamService;
  readonly clock: Clock;
  readDefinition(state: RequestState): Promise<{ body: Buffer; format: DefinitionFormat | undefined }>;
  readJson(state: RequestState, fields: readonly string[]): Promise<Record<string, unknown>>;
}

export interface AdminRouteInfo {
  readonly method: Method;
  readonly path: string;
  readonly role: AdminRole | null;
}

const ROLE_RANK: Readonly<Record<AdminRole, number>> = { 'read-only': 0, operator: 1, admin: 2 };
const WWW_AUTHENTICATE = 'Bearer realm="portcullis-admin"';
const MAX_COMMENT_LENGTH = 1024;

export function createAdminServer({
  controlPlane,
  metrics,
  readiness,
  logger: parentLogger,
  clock,
  maxDefinitionBytes = 20 * 1024 * 1024,
  maxJsonBytes = 64 * 1024,
  apiKeys,
  audit,
  monitor,
  runtimeAlarms,
  iam,
}: AdminServerOptions): AdminServer {
  const logger = parentLogger.child({ component: 'admin-api' });

  async function readDefinition(state: RequestState) {
    const format = definitionFormat(state.req);
    const body = await readBody(state.req, maxDefinitionBytes);
    if (body.length === 0) throw new AdminHttpError('BAD_REQUEST', 'the request body is empty; send the definition as YAML or JSON');
    captureRequestBody(state.req, definitionSummary(body, format));
    return { body, format };
  }

  async function readJson(state: RequestState, fields: readonly string[]) {
    const body = parseJsonObject(state.req, await readBody(state.req, maxJsonBytes));
    checkFields(body, fields);
    captureRequestBody(state.req, body);
    return body;
  }

  const deps: HandlerDeps = { controlPlane, metrics, readiness, clock, readDefinition, readJson, apiKeys, audit, monitor, runtimeAlarms, iam };
  const compiled = ROUTES.map((route) => ({ route, segments: route.path.split('/') }));

  /** Every route whose path template matches, whatever its method. */
  function match(pathname: string): Array<{ route: RouteSpec; params: Record<string, string> }> {
    const segments = pathname.split('/');
    const candidates: Array<{ route: RouteSpec; params: Record<string, string> }> = [];
    for (const { route, segments: pattern } of compiled) {
      if (pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < pattern.length && ok; i++) {
        const p = pattern[i]!;
        const s = segments[i]!;
        if (p.startsWith('{')) {
          if (s === '') ok = false;
          else params[p.slice(1, -1)] = decodeSegment(s);
        } else ok = p === s;
      }
      if (ok) candidates.push({ route, params });
    }
    return candidates;
  }

  async function authenticate(req: IncomingMessage, role: AdminRole): Promise<AdminTokenRecord> {
    const header = req.headers.authorization;
    const value = header ? /^Bearer +(\S+) *$/i.exec(header)?.[1] : undefined;
    if (!value) {
      throw new AdminHttpError('UNAUTHENTICATED', 'this endpoint needs an admin token: send Authorization: Bearer <token>', {
        headers: { 'www-authenticate': WWW_AUTHENTICATE },
      });
    }
    const token = await controlPlane.authenticate(value);
    if (!token) {
      // RFC 6750 section 3.1: invalid_token for an unknown, revoked or malformed token.
      throw new AdminHttpError('UNAUTHENTICATED', 'the admin token is not valid (unknown or revoked)', {
        headers: { 'www-authenticate': `${WWW_AUTHENTICATE}, error="invalid_token"` },
      });
    }
    noteCaller(req, token);
    if (ROLE_RANK[token.role] < ROLE_RANK[role]) {
      throw new AdminHttpError(
        'FORBIDDEN',
        `this endpoint needs the ${role} role${role === 'admin' ? '' : ' or higher'}; the token ${JSON.stringify(token.name)} has the ${token.role} role`,
        { extra: { requiredRole: role } },
      );
    }
    return token;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const requestId = newRequestId();
    res.setHeader('x-request-id', requestId);
    let token: AdminTokenRecord | undefined;
    let pathname = '';
    let reply: Reply;
    let audited: { route: RouteSpec; params: Record<string, string>; query: URLSearchParams } | undefined;
    try {
      let url: URL;
      try {
        // Concatenated, not resolved against a base: "//host/x" must stay a path, not become another host.
        if (!req.url?.startsWith('/')) throw new TypeError('not origin-form');
        url = new URL(`http://admin.invalid${req.url}`);
      } catch {
        throw new AdminHttpError('BAD_REQUEST', 'the request target must be a path such as /v1/revisions');
      }
      pathname = url.pathname;
      const candidates = match(pathname);
      // HEAD is answered as GET without the body (RFC 9110 section 9.3.2); node:http drops the body itself.
      const allowed = candidates.flatMap((c) => (c.route.method === 'GET' ? ['GET', 'HEAD'] : [c.route.method]));
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const hit = candidates.find((c) => c.route.method === method);
      if (candidates.length === 0) throw new AdminHttpError('ROUTE_NOT_FOUND', `the admin API has no path ${pathname} (see GET /v1/openapi.json)`);
      if (!hit) {
        throw new AdminHttpError('METHOD_NOT_ALLOWED', `${pathname} does not accept ${req.method}; it accepts ${allowed.join(', ')}`, {
          headers: { allow: allowed.join(', ') },
        });
      }
      audited = { route: hit.route, params: hit.params, query: url.searchParams };
      if (hit.route.role) token = await authenticate(req, hit.route.role);
      checkQuery(url.searchParams, hit.route.query ?? []);
      reply = await hit.route.handle({ req, params: hit.params, query: url.searchParams, token, requestId }, deps);
    } catch (err) {
      reply = errorReply(err, res, requestId);
    }
    // Recorded before the answer is sent: a caller that saw its change succeed can find it in the trail.
    if (audit && audited?.route.role && isAudited(audit, req.method ?? '', reply.status)) {
      try {
        await auditAdminRequest(audit, {
          req,
          method: req.method ?? '',
          routePath: audited.route.path,
          eventName: audited.route.eventName,
          token,
          requestId,
          params: audited.params,
          query: audited.query,
          status: reply.status,
          json: 'json' in reply ? reply.json : undefined,
        });
      } catch (err) {
        logger.error({ err, requestId }, 'could not record the audit event for an admin request');
      }
    }

    // A body we did not read would otherwise be drained to keep the connection alive; closing it is cheaper
    // and does not let an unauthenticated client make us read megabytes.
    if (hasBody(req) && !req.readableEnded) res.setHeader('connection', 'close');
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    if ('json' in reply) {
      const body = JSON.stringify(reply.json);
      res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.text) });
      res.end(reply.text);
    }
    // Never the Authorization header or a token value: the token is named by its id.
    const entry = {
      requestId,
      method: req.method,
      path: pathname,
      status: reply.status,
      ms: Math.round(performance.now() - started),
      tokenId: token?.id,
    };
    if (req.method === 'GET' || req.method === 'HEAD') logger.debug(entry, 'admin request');
    else logger.info(entry, 'admin request');
  }

  function errorReply(err: unknown, res: ServerResponse, requestId: string): Reply {
    if (err instanceof AdminHttpError) {
      for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
      return { status: err.status, json: { error: { code: err.code, message: err.message, ...err.extra } } };
    }
    if (err instanceof DefinitionError) {
      return { status: 400, json: { error: invalidDefinition(err.problems.length), problems: err.problems } };
    }
    if (err instanceof ControlError) {
      const code: AdminErrorCode = err.code === 'INVALID_INPUT' ? 'BAD_REQUEST' : err.code;
      return { status: ADMIN_ERRORS[code].status, json: { error: { code, message: err.message } } };
    }
    logger.error({ err, requestId }, 'admin request failed');
    return {
      status: 500,
      json: { error: { code: 'INTERNAL', message: `internal error; the server log has the details under request id ${requestId}` } },
    };
  }

  const server = http.createServer({ requestTimeout: 120_000, headersTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      // Only reachable if writing the response itself failed (the client went away).
      logger.warn({ err }, 'could not answer an admin request');
      res.destroy();
    });
  });

  let listening = false;
  return {
    server,
    listen(host, port) {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          listening = true;
          const address = server.address() as AddressInfo;
          resolve({ host: address.address, port: address.port });
        });
      });
    },
    close() {
      if (!listening) return Promise.resolve();
      listening = false;
      return new Promise<void>((resolve) => {
        // Requests in progress get a moment to finish; idle keep-alive connections are closed now.
        const force = setTimeout(() => server.closeAllConnections(), 2000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}

// Type-checked against RouteSpec here (routes/keys.ts declares structural types to avoid an import cycle).
const keyRoutes = (): readonly RouteSpec[] => KEY_ROUTES;
const auditRoutes = (): readonly RouteSpec[] => AUDIT_ROUTES;
const alarmRoutes = (): readonly RouteSpec[] => ALARM_ROUTES;
const iamRoutes = (): readonly RouteSpec[] => IAM_ROUTES;

const ROUTES: readonly RouteSpec[] = Object.freeze([
  {
    method: 'GET',
    path: '/healthz',
    role: null,
    handle: async (_state, { clock }) => ({ status: 200, json: { status: 'ok', time: new Date(clock.now()).toISOString() } }),
  },
  {
    method: 'GET',
    path: '/readyz',
    role: null,
    handle: async (_state, { readiness }) => {
      const result = await readiness();
      return { status: result.ready ? 200 : 503, json: { ready: result.ready, checks: result.checks } };
    },
  },
  {
    method: 'GET',
    path: '/metrics',
    role: 'read-only',
    eventName: 'GetMetrics',
    handle: async (_state, { metrics }) => ({ status: 200, text: await metrics.render(), contentType: metrics.contentType }),
  },
  {
    method: 'GET',
    path: '/v1/openapi.json',
    role: null,
    handle: async () => ({ status: 200, json: ADMIN_OPENAPI }),
  },
  {
    method: 'POST',
    path: '/v1/validate',
    role: 'operator',
    eventName: 'ValidateDefinition',
    handle: async (state, { controlPlane, readDefinition }) => {
      const { body, format } = await readDefinition(state);
      const result = controlPlane.validate(body, format);
      if (!result.ok) {
        return {
          status: 400,
          json: { valid: false, problems: result.problems, error: invalidDefinition(result.problems.length) },
        };
      }
      return { status: 200, json: { valid: true, format: result.format, apiCount: result.apiCount, routeCount: result.routeCount } };
    },
  },
  {
    method: 'GET',
    path: '/v1/deployments',
    role: 'read-only',
    query: ['limit'],
    handle: async ({ query }, { controlPlane }) => ({
      status: 200,
      json: { deployments: await controlPlane.deploymentHistory({ limit: intParam(query, 'limit', 1, 1000) ?? 50 }) },
    }),
  },
  {
    method: 'POST',
    path: '/v1/deployments',
    role: 'operator',
    query: ['comment'],
    handle: async (state, { controlPlane, readDefinition }) => {
      const comment = state.query.get('comment');
      if (comment !== null && comment.length > MAX_COMMENT_LENGTH) {
        throw new AdminHttpError('BAD_REQUEST', `comment is longer than ${MAX_COMMENT_LENGTH} characters`);
      }
      const { body, format } = await readDefinition(state);
      return deployReply(await controlPlane.deploy({ source: body, format, comment: comment || null, actor: actorOf(state) }));
    },
  },
  {
    method: 'GET',
    path: '/v1/deployments/current',
    role: 'read-only',
    eventName: 'GetCurrentDeployment',
    handle: async (_state, { controlPlane }) => {
      const deployment = await controlPlane.currentDeployment();
      if (!deployment) throw new AdminHttpError('NOT_FOUND', 'no revision has been deployed yet');
      const revision = await controlPlane.getRevision(deployment.revision);
      const installed = controlPlane.installed();
      return {
        status: 200,
        json: {
          deployment,
          revision: revision && withoutSource(revision),
          installed: installed
            ? { revision: installed.revision, apiCount: installed.apiCount, routeCount: installed.routeCount }
            : null,
        },
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/revisions',
    role: 'read-only',
    query: ['limit', 'before'],
    handle: async ({ query }, { controlPlane }) => {
      const limit = intParam(query, 'limit', 1, 1000) ?? 50;
      const before = intParam(query, 'before', 1, Number.MAX_SAFE_INTEGER);
      const [revisions, current] = await Promise.all([
        controlPlane.listRevisions({ limit, before }),
        controlPlane.currentDeployment(),
      ]);
      const last = revisions[revisions.length - 1];
      return {
        status: 200,
        json: {
          revisions,
          activeRevision: current?.revision ?? null,
          nextBefore: revisions.length === limit && last && last.number > 1 ? last.number : null,
        },
      };
    },
  },
  {
    method: 'GET',
    path: '/v1/revisions/{revision}',
    role: 'read-only',
    handle: async ({ params }, { controlPlane }) => {
      const number = revisionParam(params.revision);
      const [revision, current] = await Promise.all([controlPlane.getRevision(number), controlPlane.currentDeployment()]);
      if (!revision) throw new AdminHttpError('NOT_FOUND', `revision ${number} does not exist`);
      return { status: 200, json: { revision, active: current?.revision === number } };
    },
  },
  {
    method: 'POST',
    path: '/v1/revisions/{revision}/deploy',
    role: 'operator',
    handle: async (state, { controlPlane }) =>
      deployReply(await controlPlane.rollback(revisionParam(state.params.revision), actorOf(state))),
  },
  {
    method: 'GET',
    path: '/v1/admin-tokens',
    role: 'admin',
    handle: async (_state, { controlPlane }) => ({ status: 200, json: { tokens: (await controlPlane.listTokens()).map(publicToken) } }),
  },
  {
    method: 'POST',
    path: '/v1/admin-tokens',
    role: 'admin',
    handle: async (state, { controlPlane, readJson }) => {
      const body = await readJson(state, ['name', 'role']);
      if (typeof body.name !== 'string') throw new AdminHttpError('BAD_REQUEST', 'name must be a string');
      if (typeof body.role !== 'string' || !ADMIN_ROLES.includes(body.role as AdminRole)) {
        throw new AdminHttpError('BAD_REQUEST', `role must be one of ${ADMIN_ROLES.join(', ')}`);
      }
      const { record, value } = await controlPlane.createToken({ name: body.name, role: body.role as AdminRole }, actorOf(state));
      return { status: 201, json: { token: publicToken(record), value } };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/admin-tokens/{id}',
    role: 'admin',
    eventName: 'RevokeAdminToken',
    handle: async (state, { controlPlane }) => ({
      status: 200,
      json: { token: publicToken(await controlPlane.revokeToken(state.params.id ?? '', actorOf(state))) },
    }),
  },
  ...keyRoutes(),
  ...auditRoutes(),
  ...alarmRoutes(),
  ...iamRoutes(),
]);

/** Every route of the admin API (method, path template, least role): what the OpenAPI document must list. */
export const ADMIN_ROUTES: readonly AdminRouteInfo[] = Object.freeze(
  ROUTES.map(({ method, path, role }) => Object.freeze({ method, path, role })),
);

function deployReply(outcome: DeployOutcome): Reply {
  return {
    status: outcome.unchanged ? 200 : 201,
    json: { revision: outcome.revision, deployment: outcome.deployment, unchanged: outcome.unchanged },
  };
}

function actorOf(state: RequestState): string {
  return `admin-token:${state.token?.name ?? 'unknown'}`;
}

function invalidDefinition(count: number) {
  return {
    code: 'INVALID_DEFINITION' as const,
    message: `the definition is not valid (${count === 1 ? '1 problem' : `${count} problems`}); nothing was stored`,
  };
}

function publicToken(record: AdminTokenRecord) {
  // The digest stays private: it is not needed by anyone, and not exposing it costs nothing.
  const { id, name, role, hint, createdAt, revokedAt, lastUsedAt } = record;
  return { id, name, role, hint, createdAt, revokedAt, lastUsedAt };
}

function withoutSource<T extends { source: string }>(record: T): Omit<T, 'source'> {
  const { source: _source, ...rest } = record;
  return rest;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AdminHttpError('BAD_REQUEST', `the path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
}

function checkQuery(query: URLSearchParams, known: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (!known.includes(key)) {
      const accepted = known.length ? `; this endpoint accepts ${known.join(', ')}` : '; this endpoint takes none';
      throw new AdminHttpError('BAD_REQUEST', `unknown query parameter ${JSON.stringify(key)}${accepted}`);
    }
    if (seen.has(key)) throw new AdminHttpError('BAD_REQUEST', `the query parameter ${JSON.stringify(key)} is given twice`);
    seen.add(key);
  }
}

function intParam(query: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const value = /^\d{1,16}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new AdminHttpError('BAD_REQUEST', `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function revisionParam(raw: string | undefined): number {
  const value = raw !== undefined && /^[1-9]\d{0,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new AdminHttpError('BAD_REQUEST', `a revision number is a positive integer, got ${JSON.stringify(raw ?? '')}`);
  }
  return value;
}

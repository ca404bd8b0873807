// The request handler: phases 1 (request sanity, limits, API + stage), 2 (route), the route's stage
// chain (3-8), the integration (9) and the log phase (10), in the order pinned by pipeline/phases.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/clock.ts';
import { deny, type Denial } from '../core/denial.ts';
import { createExtendedIdGenerator, isUuid, newRequestId } from '../core/ids.ts';
import { closeInFlight, RequestContext } from './pipeline/context.ts';
import type { StageFn } from './pipeline/stage.ts';
import { defaultResponder, type GatewayResponder } from './gateway-responses.ts';
import type { CompiledRoute, CompiledStage, Snapshot } from './snapshot.ts';
import type { ConnectionInfo } from '../tls/client-cert.ts';
import { createTransportFacts, type PlainHttpMode } from './transport.ts';
import { parseSigV4 } from '../security/sigv4/verify.ts';

export interface RequestObserver {
  /** Called once per request when the response has finished or the connection closed. */
  onRequestEnd(ctx: RequestContext, accessLog: ((ctx: RequestContext) => string) | null): void;
  /** Called once per request as it arrives (tracing: traceparent in, the upstream's traceparent out). */
  onRequestStart?(ctx: RequestContext): void;
  /** Before the route, once the API stage is known: a Denial refuses the request (alarm blocks, as AWS WAF). */
  screen?(ctx: RequestContext): Denial | undefined;
  /** Phase boundaries, for tracing: the route matched, the integration starts. */
  onPhase?(ctx: RequestContext, phase: 'route' | 'integration'): void;
}

export interface DispatcherOptions {
  readonly snapshot: () => Snapshot | undefined;
  readonly clock: Clock;
  readonly observer: RequestObserver;
  /** Whether this listener terminates TLS (aws:SecureTransport, X-Forwarded-Proto). */
  readonly secure: boolean;
  /** Called for unexpected exceptions (bugs or broken dependencies); the client gets a 500/502 response. */
  readonly onError: (err: unknown, ctx: RequestContext) => void;
  /** Set while draining: responses carry Connection: close. */
  readonly draining?: () => boolean;
  /**
   * What this plain-HTTP listener does with requests that did not arrive over TLS (directly or through a
   * trusted proxy): serve them (insecure), refuse them, or redirect them (308) to the HTTPS listener.
   */
  readonly plainHttp?: { readonly mode: PlainHttpMode; readonly httpsPort?: number };
}

export type Dispatch = (req: IncomingMessage, res: ServerResponse, conn?: ConnectionInfo) => void;


export function createDispatcher(options: DispatcherOptions): Dispatch {
  const { snapshot, clock, observer, secure, onError } = options;
  const draining = options.draining ?? (() => false);
  const nextExtendedId = createExtendedIdGenerator();
  const transport = createTransportFacts();
  const plainMode = secure ? 'serve' : options.plainHttp?.mode ?? 'serve';

  return function dispatch(req, res, conn) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const supplied = req.headers['x-amzn-requestid'];
    const snap = snapshot();
    const facts = transport.of(snap, req, conn !== undefined || secure);
    const ctx = new RequestContext({
      req,
      res,
      requestId: typeof supplied === 'string' && isUuid(supplied) ? supplied.toLowerCase() : newRequestId(),
      extendedRequestId: nextExtendedId(),
      requestTimeEpoch: clock.now(),
      startedAt: performance.now(),
      rawPath,
      rawQuery: q === -1 ? '' : url.slice(q + 1),
      sourceIp: facts.sourceIp,
      secureTransport: facts.secure,
      domainName: hostOf(req),
      peerIp: facts.peer,
    });
    ctx.path = rawPath;
    const own = ctx.gatewayHeaders;
    own.push('x-amzn-RequestId', ctx.requestId, 'x-amz-apigw-id', ctx.extendedRequestId);
    if (draining()) own.push('connection', 'close');
    if (facts.hsts !== '') own.push('strict-transport-security', facts.hsts);

    let responder: GatewayResponder = defaultResponder;
    let stage: CompiledStage | undefined;
    // on() and a flag rather than once(), whose wrapper costs an allocation and a listener search per request.
    let ended = false;
    res.on('close', () => {
      if (ended) return;
      ended = true;
      closeInFlight(ctx);
      observer.onRequestEnd(ctx, stage ? stage.accessLog : snap?.accessLog ?? null);
    });
    observer.onRequestStart?.(ctx);

    // Phase 0 for plain HTTP: what this listener does with requests that did not come over TLS.
    if (!facts.secure && plainMode !== 'serve') {
      const refusal = transport.refusePlain(ctx, url, plainMode, options.plainHttp?.httpsPort);
      if (refusal) return send(responder, ctx, refusal);
      return;
    }
    // Phase 1: HTTP sanity and limits, then API and stage.
    const early = snap ? checkRequest(ctx, url, snap) : deny('NO_API', { detail: 'no revision deployed' });
    if (early) return send(responder, ctx, early);
    const selection = snap!.select(ctx.domainName, rawPath);
    if (!selection) return send(responder, ctx, deny('NO_API', { detail: 'no API at this host and base path' }));
    if (conn !== undefined && selection.domain !== conn.domain) {
      // Host must name the domain whose TLS settings (and truststore) admitted this connection.
      return send(responder, ctx, deny('NO_API', { detail: `Host ${ctx.domainName} is not the TLS server name ${conn.domain}` }));
    }
    transport.applyClientCert(snap!, ctx, conn, selection.domain);
    ctx.basePathMatched = selection.basePathMatched ?? '';
    responder = selection.api.responder;
    ctx.apiId = selection.api.id;
    ctx.apiName = selection.api.name;
    ctx.stage = selection.stageName;
    stage = selection.stage;
    if (!stage) return send(responder, ctx, deny('NO_API', { detail: `no stage "${selection.stageName}"` }));
    ctx.stageVariables = stage.variables;
    const screened = observer.screen?.(ctx);
    if (screened) return send(responder, ctx, screened);

    // Phase 2: route.
    let match;
    try {
      match = stage.router.find(ctx.httpMethod, selection.stagePath);
    } catch {
      return send(responder, ctx, deny('BAD_REQUEST', { detail: 'malformed percent-encoding in path' }));
    }
    if (!match) return send(responder, ctx, unmatchedRoute(ctx));
    const route = match.value;
    ctx.route = route;
    ctx.resourcePath = route.resourcePath;
    ctx.routeKey = route.routeKey;
    ctx.pathParameters = match.params;
    observer.onPhase?.(ctx, 'route');

    // Phases 3-9.
    if (route.chain.length === 0) return integrate(responder, ctx, route);
    runChain(responder, ctx, route, route.chain, 0);
  };

  function runChain(responder: GatewayResponder, ctx: RequestContext, route: CompiledRoute, chain: readonly StageFn[], from: number): void {
    for (let i = from; i < chain.length; i++) {
      let result;
      try {
        result = chain[i](ctx);
      } catch (err) {
        return fail(responder, ctx, err);
      }
      if (result !== undefined && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<Denial | undefined>).then(
          (denial) => (denial ? send(responder, ctx, denial) : runChain(responder, ctx, route, chain, i + 1)),
          (err) => fail(responder, ctx, err),
        );
        return;
      }
      if (result) return send(responder, ctx, result as Denial);
    }
    integrate(responder, ctx, route);
  }

  function integrate(responder: GatewayResponder, ctx: RequestContext, route: CompiledRoute): void {
    observer.onPhase?.(ctx, 'integration');
    try {
      route.integration(ctx, integrationDone);
    } catch (err) {
      fail(responder, ctx, err);
    }
  }

  /** The integrations' one completion callback: renders a Denial reported before any byte was sent. */
  function integrationDone(ctx: RequestContext, denial: Denial | undefined): void {
    if (denial === undefined) return;
    const responder = (ctx.route as CompiledRoute).responder;
    try {
      send(responder, ctx, denial);
    } catch (err) {
      fail(responder, ctx, err);
    }
  }

  function fail(responder: GatewayResponder, ctx: RequestContext, err: unknown): void {
    onError(err, ctx);
    if (!ctx.res.headersSent) send(responder, ctx, deny('API_CONFIGURATION_ERROR', { detail: 'internal error' }));
    else ctx.res.destroy();
  }
}

function send(responder: GatewayResponder, ctx: RequestContext, denial: Denial): void {
  // The request body is not read when the gateway answers itself: close the connection rather than
  // let an unread body be parsed as the next request.
  if (!ctx.req.complete && hasBody(ctx.req)) ctx.res.setHeader('connection', 'close');
  responder.send(ctx, denial);
}

function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Phase 1 checks that do not depend on the API: target form, encoding, dot segments, sizes. */
function checkRequest(ctx: RequestContext, url: string, snap: Snapshot): Denial | undefined {
  const s = snap.settings;
  if (url.length > s.maxUriBytes) return deny('URI_TOO_LONG');
  // Only origin-form targets: absolute-form would let the URL's authority disagree with Host, and
  // asterisk-form (OPTIONS *) names no resource.
  if (url.charCodeAt(0) !== 47) return deny('BAD_REQUEST', { detail: 'request target is not origin-form' });
  const problem = targetProblem(url, ctx.rawPath);
  if (problem !== undefined) return deny('BAD_REQUEST', { detail: problem });

  const raw = ctx.req.rawHeaders;
  let headerBytes = 0;
  for (let i = 0; i < raw.length; i++) headerBytes += raw[i].length;
  if (headerBytes > s.maxHeaderBytes) return deny('REQUEST_TOO_LARGE', { detail: `headers are ${headerBytes} bytes` });

  const cl = ctx.req.headers['content-length'];
  if (cl !== undefined && Number(cl) > s.maxRequestBodyBytes) {
    return deny('REQUEST_TOO_LARGE', { detail: `content-length ${cl} exceeds ${s.maxRequestBodyBytes}` });
  }
  return undefined;
}

const BAD_PERCENT = 1; // a '%' not followed by two hex digits, anywhere in the target
const MAYBE_DOT = 2; // a '.' or '%2' in the path: hasDotSegment decides
const BACKSLASH = 4; // a '\\' in the path

/**
 * What is wrong with an origin-form request target, if anything: a '%' not followed by two hex digits
 * (anywhere), a dot segment or a backslash in the path (`rawPath`, the target up to its '?'). One pass
 * over the characters; the dot-segment check runs only when the pass saw a '.' or '%2' in the path.
 */
export function targetProblem(url: string, rawPath: string): string | undefined {
  const found = scanTarget(url, rawPath.length);
  if (found === 0) return undefined;
  if (found & BAD_PERCENT) return 'invalid percent-encoding';
  if (found & MAYBE_DOT && hasDotSegment(rawPath)) return 'dot segment in path';
  if (found & BACKSLASH) return 'backslash in path';
  return undefined;
}

/** One pass over the request target for what checkRequest refuses; `pathEnd` is where the query starts. */
function scanTarget(url: string, pathEnd: number): number {
  let found = 0;
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 37) {
      if (!isHexDigit(url.charCodeAt(i + 1)) || !isHexDigit(url.charCodeAt(i + 2))) return found | BAD_PERCENT;
      if (i < pathEnd && url.charCodeAt(i + 1) === 50) found |= MAYBE_DOT;
    } else if (i < pathEnd) {
      if (c === 46) found |= MAYBE_DOT;
      else if (c === 92) found |= BACKSLASH;
    }
  }
  return found;
}

/** NaN (past the end of the string) is not a hex digit. */
function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * '.' and '..' segments (also percent-encoded) are refused: an upstream that normalises them could
 * be reached at a path no route allows. Called only when scanTarget saw a '.' or '%2' in the path.
 */
function hasDotSegment(path: string): boolean {
  for (const seg of path.split('/')) {
    if (seg.length > 6 || seg.length === 0) continue;
    const s = seg.toLowerCase().replaceAll('%2e', '.');
    if (s === '.' || s === '..') return true;
  }
  return false;
}

// Clients send the same Host on every request of a connection (and most connections): the last answer
// is kept, so a repeat costs one string comparison instead of lower-casing and slicing.
let lastHost = '';
let lastHostOf = '';

function hostOf(req: IncomingMessage): string {
  const host = req.headers.host;
  if (!host) return '';
  if (host === lastHost) return lastHostOf;
  let h = host.toLowerCase();
  if (h.charCodeAt(0) === 91) {
    const end = h.indexOf(']');
    h = end === -1 ? h : h.slice(0, end + 1);
  } else {
    const colon = h.indexOf(':');
    if (colon !== -1) h = h.slice(0, colon);
    if (h.endsWith('.')) h = h.slice(0, -1);
  }
  lastHost = host;
  lastHostOf = h;
  return h;
}

/**
 * No route matches. AWS answers 403 Missing Authentication Token, except that an Authorization header which is
 * not a complete Signature V4 gets 403 IncompleteSignatureException naming what is missing (reference §1).
 */
function unmatchedRoute(ctx: RequestContext): Denial {
  if (ctx.req.headers.authorization !== undefined) {
    const parsed = parseSigV4({ method: ctx.httpMethod, rawPath: '', rawQuery: '', rawHeaders: ctx.req.rawHeaders });
    if ('kind' in parsed && parsed.kind === 'INCOMPLETE') {
      return deny('INVALID_SIGNATURE', {
        message: parsed.message,
        detail: 'no route matches; the Authorization header is not a complete Signature V4',
        headers: { 'x-amzn-ErrorType': 'IncompleteSignatureException' },
      });
    }
  }
  return deny('MISSING_AUTHENTICATION_TOKEN', { detail: 'no route matches' });
}

// The per-request context: one object per request holding what AWS exposes as $context variables
// (same names), filled phase by phase. Access logs, gateway-response templates and policies read it.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResponseType } from '../../core/gateway-responses.ts';

export interface ClientCertInfo {
  clientCertPem: string;
  subjectDN: string;
  issuerDN: string;
  serialNumber: string;
  validity: { notBefore: string; notAfter: string };
}

/** $context.identity.* */
export interface Identity {
  sourceIp: string;
  userAgent: string;
  caller: string;
  user: string;
  userArn: string;
  accountId: string;
  accessKey: string;
  apiKey: string;
  apiKeyId: string;
  clientCert?: ClientCertInfo;
}

export interface ErrorInfo {
  message: string | null;
  messageString: string;
  responseType: ResponseType | '';
  validationErrorString: string;
}

export interface IntegrationInfo {
  status: number;
  latency: number;
  error: string;
  requestId: string;
}

/** The slice of a compiled route the context needs (kept structural to avoid import cycles). */
export interface RouteRef {
  readonly apiId: string;
  readonly apiName: string;
  readonly stageName: string;
  readonly resourcePath: string;
  readonly routeKey: string;
}

export class RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly requestId: string;
  readonly extendedRequestId: string;
  readonly requestTimeEpoch: number;
  /** performance.now() at arrival, for latencies. */
  readonly startedAt: number;
  readonly httpMethod: string;
  /** Request path as received, percent-encoded, without the query. */
  readonly rawPath: string;
  /** Query string without the leading '?', '' when absent. */
  readonly rawQuery: string;
  readonly protocol: string;
  readonly secureTransport: boolean;
  readonly domainName: string;
  /** The TCP peer's address (IPv4-mapped IPv6 unwrapped); '' when the creator did not say. */
  readonly peerIp: string;
  readonly identity: Identity;

  /** Set once the API and stage are known. */
  apiId = '';
  apiName = '';
  stage = '';
  /** $context.path: the path after the API's base path, including the stage (/prod/pets/1). */
  path = '';
  /** The path inside the stage, decoded segment by segment (/pets/1). */
  stagePath = '';
  /** $context.resourcePath: the matched route template (/pets/{id}). */
  resourcePath = '';
  routeKey = '';
  /** $context.customDomain.basePathMatched: set when a custom domain's base path mapping selected the API. */
  basePathMatched = '';
  route: RouteRef | undefined = undefined;
  pathParameters: Record<string, string> = EMPTY;
  stageVariables: Readonly<Record<string, string>> = EMPTY;

  /** $context.authorizer.*: principalId, claims, custom authorizer context values. */
  authorizer: Record<string, unknown> = {};
  /**
   * Values later stages add for policies (condition keys) and integrations. Authorization reads two of them
   * (contract in pipeline/caller-identity.ts): `identity` (a CallerIdentity: who authenticated and the
   * identity-side decision) and `conditionKeys` (a Map of extra lower-cased condition keys such as
   * `jwt:sub` or client-certificate fields; `aws:*` keys there are ignored, the gateway computes those).
   */
  readonly extensions: Record<string, unknown> = {};

  error: ErrorInfo = { message: null, messageString: '', responseType: '', validationErrorString: '' };
  integration: IntegrationInfo = { status: 0, latency: -1, error: '', requestId: '' };
  /** Private reason for a denial, for logs only. */
  denialDetail = '';
  /**
   * Response headers the gateway adds to every response, as name/value pairs (x-amzn-RequestId,
   * x-amz-apigw-id, HSTS, Connection: close while draining). Dispatch fills it; whoever writes the
   * response head applies it: applyGatewayHeaders() before setHeader-style writes, or the HTTP proxy
   * in the one array it hands to writeHead (Node's fast path: no per-header setHeader).
   */
  gatewayHeaders: string[] = [];
  /**
   * The integration's work in flight (an upstream exchange), told first when the client's connection
   * closes so that the log phase, which runs next, sees its outcome. See closeInFlight().
   */
  inFlight: InFlight | null = null;

  status = 0;
  responseLength = 0;
  responseLatency = -1;
  /** Bytes of the request body actually read (counted while streaming). */
  requestBodyLength = 0;

  constructor(init: {
    req: IncomingMessage;
    res: ServerResponse;
    requestId: string;
    extendedRequestId: string;
    requestTimeEpoch: number;
    startedAt: number;
    rawPath: string;
    rawQuery: string;
    sourceIp: string;
    secureTransport: boolean;
    domainName: string;
    peerIp?: string;
  }) {
    this.req = init.req;
    this.res = init.res;
    this.requestId = init.requestId;
    this.extendedRequestId = init.extendedRequestId;
    this.requestTimeEpoch = init.requestTimeEpoch;
    this.startedAt = init.startedAt;
    this.httpMethod = init.req.method ?? 'GET';
    this.rawPath = init.rawPath;
    this.rawQuery = init.rawQuery;
    this.protocol = protocolOf(init.req.httpVersion);
    this.secureTransport = init.secureTransport;
    this.domainName = init.domainName;
    this.peerIp = init.peerIp ?? '';
    const ua = init.req.headers['user-agent'];
    this.identity = {
      sourceIp: init.sourceIp,
      userAgent: typeof ua === 'string' ? ua : '',
      caller: '',
      user: '',
      userArn: '',
      accountId: '',
      accessKey: '',
      apiKey: '',
      apiKeyId: '',
    };
  }
}

const EMPTY: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** An integration's handle on a request it has not finished. */
export interface InFlight {
  /** The client's connection closed: stop the upstream work and record why. Idempotent. */
  clientClosed(): void;
}

/**
 * Called once by whoever owns the response's 'close' event (the dispatcher), before the log phase: one
 * listener per request rather than one per party, and the integration's outcome is known when logged.
 */
export function closeInFlight(ctx: RequestContext): void {
  const work = ctx.inFlight;
  if (work !== null) {
    ctx.inFlight = null;
    work.clientClosed();
  }
}

/** Sets ctx.gatewayHeaders on its response (for writers that set headers one by one). */
export function applyGatewayHeaders(ctx: RequestContext): void {
  const h = ctx.gatewayHeaders;
  for (let i = 0; i < h.length; i += 2) ctx.res.setHeader(h[i], h[i + 1]);
}

/** $context.protocol without a new string per request for the usual versions. */
function protocolOf(version: string): string {
  switch (version) {
    case '1.1':
      return 'HTTP/1.1';
    case '2.0':
      return 'HTTP/2.0';
    case '1.0':
      return 'HTTP/1.0';
    default:
      return `HTTP/${version}`;
  }
}

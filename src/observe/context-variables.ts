// $context variables (AWS names) compiled once into getters over a RequestContext. Used by access-log
// formats and gateway-response templates; an unknown name fails at compile time, never per request.
import type { TLSSocket } from 'node:tls';
import type { RequestContext } from '../gateway/pipeline/context.ts';

/** A compiled variable: null means "no value", which access logs render as `-` like AWS. */
export type ContextGetter = (ctx: RequestContext) => string | number | null;

export interface CompileVariableOptions {
  /** $context.accountId: the account that owns the API (settings.accountId), not the caller's. */
  readonly accountId?: string;
}

export class ContextVariableError extends Error {
  readonly code = 'UNKNOWN_CONTEXT_VARIABLE';
  readonly variable: string;
  constructor(variable: string, reason = 'unknown $context variable') {
    super(`${reason} "$context.${variable}"`);
    this.name = 'ContextVariableError';
    this.variable = variable;
  }
}

const PREFIX = '$context.';

/** Strings: '' means "not set" in RequestContext, so it renders as missing. */
const str = (v: string | undefined): string | null => (v ? v : null);
/** Latencies and statuses use -1 / 0 for "not measured" in RequestContext. */
const nonNegative = (v: number): number | null => (Number.isFinite(v) && v >= 0 ? Math.round(v) : null);
const positive = (v: number): number | null => (Number.isFinite(v) && v > 0 ? v : null);

/** Renders a value from an open-ended bag (authorizer context, claims, extensions). */
function fromUnknown(v: unknown): string | number | null {
  switch (typeof v) {
    case 'string':
      return v === '' ? null : v;
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'object':
      if (v === null) return null;
      try {
        return JSON.stringify(v);
      } catch {
        return null; // cyclic or hostile toJSON: a log line must not throw
      }
    default:
      return null;
  }
}

function tlsSocket(ctx: RequestContext): TLSSocket | null {
  const s = ctx.req.socket as Partial<TLSSocket> | null;
  return s && s.encrypted === true ? (s as TLSSocket) : null;
}

const NONE: ContextGetter = () => null;

/**
 * Every fixed name. Names AWS defines for features Portcullis does not have (WAF, Cognito identity
 * pools, VPC endpoints, X-Ray, canaries) are accepted and render as missing, so formats written for
 * AWS deploy unchanged. `rawQuery` is deliberately absent: a query string can carry credentials
 * (SigV4 presigned URLs put X-Amz-Security-Token there), and no $context variable may leak one.
 */
const FIXED: Readonly<Record<string, ContextGetter>> = {
  requestId: (c) => c.requestId,
  extendedRequestId: (c) => c.extendedRequestId,
  requestTime: (c) => clfTime(c.requestTimeEpoch),
  requestTimeEpoch: (c) => Math.floor(c.requestTimeEpoch),

  apiId: (c) => str(c.apiId),
  stage: (c) => str(c.stage),
  domainName: (c) => str(c.domainName),
  domainPrefix: (c) => {
    const d = c.domainName;
    if (!d) return null;
    const dot = d.indexOf('.');
    return dot === -1 ? d : d.slice(0, dot);
  },
  httpMethod: (c) => c.httpMethod,
  path: (c) => str(c.path),
  resourcePath: (c) => str(c.resourcePath),
  resourceId: NONE,
  routeKey: (c) => str(c.routeKey),
  protocol: (c) => c.protocol,
  status: (c) => positive(c.status),
  responseLength: (c) => (Number.isFinite(c.responseLength) ? c.responseLength : null),
  responseLatency: (c) => nonNegative(c.responseLatency),

  'identity.sourceIp': (c) => str(c.identity.sourceIp),
  'identity.userAgent': (c) => str(c.identity.userAgent),
  'identity.caller': (c) => str(c.identity.caller),
  'identity.user': (c) => str(c.identity.user),
  'identity.userArn': (c) => str(c.identity.userArn),
  'identity.accountId': (c) => str(c.identity.accountId),
  'identity.accessKey': (c) => str(c.identity.accessKey),
  // Whatever the api-key stage stored: a short hash prefix, never the key (STYLE.md 9).
  'identity.apiKey': (c) => str(c.identity.apiKey),
  'identity.apiKeyId': (c) => str(c.identity.apiKeyId),
  'identity.clientCert.clientCertPem': (c) => str(c.identity.clientCert?.clientCertPem),
  'identity.clientCert.subjectDN': (c) => str(c.identity.clientCert?.subjectDN),
  'identity.clientCert.issuerDN': (c) => str(c.identity.clientCert?.issuerDN),
  'identity.clientCert.serialNumber': (c) => str(c.identity.clientCert?.serialNumber),
  'identity.clientCert.validity.notBefore': (c) => str(c.identity.clientCert?.validity.notBefore),
  'identity.clientCert.validity.notAfter': (c) => str(c.identity.clientCert?.validity.notAfter),
  'identity.cognitoAuthenticationProvider': NONE,
  'identity.cognitoAuthenticationType': NONE,
  'identity.cognitoIdentityId': NONE,
  'identity.cognitoIdentityPoolId': NONE,
  'identity.principalOrgId': NONE,
  'identity.vpceId': NONE,
  'identity.vpcId': NONE,

  'error.message': (c) => str(c.error.message ?? undefined),
  'error.messageString': (c) => str(c.error.messageString),
  'error.responseType': (c) => str(c.error.responseType),
  'error.validationErrorString': (c) => str(c.error.validationErrorString),

  integrationLatency: (c) => nonNegative(c.integration.latency),
  integrationStatus: (c) => positive(c.integration.status),
  integrationErrorMessage: (c) => str(c.integration.error),
  'integration.latency': (c) => nonNegative(c.integration.latency),
  'integration.status': (c) => positive(c.integration.status),
  'integration.integrationStatus': (c) => positive(c.integration.status),
  'integration.error': (c) => str(c.integration.error),
  'integration.requestId': (c) => str(c.integration.requestId),

  // Set by the authentication and authorization stages in ctx.extensions under these same names.
  'authenticate.error': (c) => fromUnknown(c.extensions['authenticate.error']),
  'authenticate.latency': (c) => fromUnknown(c.extensions['authenticate.latency']),
  'authenticate.status': (c) => fromUnknown(c.extensions['authenticate.status']),
  'authorize.error': (c) => fromUnknown(c.extensions['authorize.error']),
  'authorize.latency': (c) => fromUnknown(c.extensions['authorize.latency']),
  'authorize.status': (c) => fromUnknown(c.extensions['authorize.status']),

  tlsVersion: (c) => str(tlsSocket(c)?.getProtocol() ?? undefined),
  cipherSuite: (c) => str(tlsSocket(c)?.getCipher()?.name),

  'waf.error': NONE,
  'waf.latency': NONE,
  // Set when an alarm's block refused the request (observe/alarms/monitor.ts): AWS WAF's words.
  'waf.status': (c) => fromUnknown(c.extensions['waf.status']),
  wafResponseCode: (c) => fromUnknown(c.extensions.wafResponseCode),
  webaclArn: NONE,
  // With tracing on (observe/tracing.ts): the trace id in X-Ray form, and in W3C form as `traceId`.
  xrayTraceId: (c) => {
    const t = c.extensions.trace as { traceId?: string } | undefined;
    return t?.traceId ? `1-${t.traceId.slice(0, 8)}-${t.traceId.slice(8)}` : null;
  },
  isCanaryRequest: NONE,
  'customDomain.basePathMatched': (c) => str(c.basePathMatched),
  dataProcessed: NONE,
  awsEndpointRequestId: NONE,
  awsEndpointRequestId2: NONE,

  // Portcullis extras (not AWS names): the rest of RequestContext that is safe to log.
  apiName: (c) => str(c.apiName),
  stagePath: (c) => str(c.stagePath),
  rawPath: (c) => str(c.rawPath),
  requestBodyLength: (c) => c.requestBodyLength,
  secureTransport: (c) => (c.secureTransport ? 'true' : 'false'),
  /** The private reason for a denial (never sent to the client; meant for operators' logs). */
  denialDetail: (c) => str(c.denialDetail),
  traceId: (c) => str((c.extensions.trace as { traceId?: string } | undefined)?.traceId),
};

/**
 * Variables whose values the gateway builds itself from characters no log format escapes ([0-9a-zA-Z],
 * `-`, `+`, `/`, `=`, `:`, `.`, space): request ids (generated, or a supplied UUID that was validated and
 * lower-cased), the CLF time and the protocol (`HTTP/` and the parser's digits). Formatters may skip the
 * escaping scan for them. Not the method: HTTP/2 allows any token there, and `&` or `'` are tokens.
 */
export const PLAIN_VARIABLES: ReadonlySet<string> = new Set(['requestId', 'extendedRequestId', 'requestTime', 'protocol']);

/** The fixed variable names, for docs and the console's format editor. */
export const CONTEXT_VARIABLE_NAMES: readonly string[] = Object.freeze(Object.keys(FIXED).sort());

/**
 * Compiles one variable name (with or without the leading `$context.`) into a getter.
 * `authorizer.<key>` and `authorizer.claims.<claim>` read ctx.authorizer; `accountId` comes from options.
 */
export function compileVariable(name: string, options: CompileVariableOptions = {}): ContextGetter {
  const n = name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name;
  if (Object.hasOwn(FIXED, n)) return FIXED[n];
  if (n === 'accountId') {
    const id = options.accountId || null;
    return () => id;
  }
  if (n.startsWith('authorizer.claims.')) {
    const claim = n.slice('authorizer.claims.'.length);
    if (!claim) throw new ContextVariableError(n, 'a claim name is required in');
    return (c) => {
      const claims = c.authorizer.claims;
      if (claims === null || typeof claims !== 'object') return null;
      return Object.hasOwn(claims, claim) ? fromUnknown((claims as Record<string, unknown>)[claim]) : null;
    };
  }
  if (n.startsWith('authorizer.')) {
    const key = n.slice('authorizer.'.length);
    if (!key || key === 'claims') throw new ContextVariableError(n, 'a key is required in');
    // hasOwn: a key such as "constructor" must not reach Object.prototype.
    return (c) => (Object.hasOwn(c.authorizer, key) ? fromUnknown(c.authorizer[key]) : null);
  }
  throw new ContextVariableError(n);
}

/** Whether a name compiles (for validators that want a boolean). */
export function isContextVariable(name: string): boolean {
  try {
    compileVariable(name);
    return true;
  } catch {
    return false;
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? `0${n}` : `${n}`);

// Requests arriving in the same second share the string: a busy gateway formats it once a second.
let lastSecond = Number.NaN;
let lastText = '';

/** CLF time, `dd/MMM/yyyy:HH:mm:ss +0000`, always UTC (AWS's requestTime). */
export function clfTime(epochMs: number): string {
  const second = Math.floor(epochMs / 1000);
  if (second === lastSecond) return lastText;
  const d = new Date(second * 1000);
  const text =
    `${pad2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} +0000`;
  lastSecond = second;
  lastText = text;
  return text;
}

// The custom (Lambda-style) authorizer stage, TOKEN and REQUEST (phase 'authenticate', reference section 8):
// identity sources, validation regex, AWS's event, a result cache keyed by identity values whose policy is
// evaluated against THIS request's method ARN, and AWS's outcomes.
import { hash } from 'node:crypto';
import type { Clock } from '../../../core/clock.ts';
import { deny, type Denial } from '../../../core/denial.ts';
import type { CustomAuthorizer } from '../../../config/authorizer-schema.ts';
import {
  evaluate, LAMBDA_EXPLICIT_DENY_MESSAGE, LAMBDA_IMPLICIT_DENY_MESSAGE, type Decision,
} from '../../../security/iam/index.ts';
import { createMethodArnBuilder } from '../authorize/method-arn.ts';
import { createConditionContextBuilder } from '../authorize/condition-context.ts';
import { createTrustedProxies } from '../../trusted-proxies.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { RouteBuild, StageFactory, StageFn, StageResult } from '../../pipeline/stage.ts';
import { claimHeaderSetter } from '../auth-common.ts';
import { awsClientCert } from '../../../tls/client-cert.ts';
import { invokeAuthorizer, type AuthorizerAnswer } from './invoke.ts';
import { createModuleInvoker } from './invoke-module.ts';
import type { AuthorizerMetrics } from '../../../observe/security-metrics.ts';

export interface CustomAuthDeps {
  readonly clock: Clock;
  /** Result-cache hits and misses (observe/security-metrics.ts); unset: not counted. */
  readonly authorizerMetrics?: AuthorizerMetrics;
  /** The node operator's directory of module authorizers (PORTCULLIS_AUTHORIZER_MODULES_DIR); unset: none can run. */
  readonly authorizerModulesDir?: string;
}

/**
 * Cached answers per authorizer and stage: shared by every route of the stage using it, as AWS's cache is.
 * Never shared across stages (an answer may depend on the stage: a simple answer would otherwise be replayed
 * on another stage, the emulator bug of peer-gateways 4.8).
 */
interface ResultCache {
  readonly entries: Map<string, { answer: AuthorizerAnswer; expiresAt: number }>;
  /** Concurrent misses for the same identity share one call. */
  readonly inflight: Map<string, Promise<AuthorizerAnswer>>;
  readonly stats: { calls: number; hits: number };
}

const MAX_CACHE_ENTRIES = 10_000;
/** Decisions remembered per cached answer (by method ARN), for policies whose decision depends on the ARN alone. */
const MAX_MEMO_ARNS = 256;
const decisions = new WeakMap<AuthorizerAnswer, Map<string, Decision>>();
type PolicyAnswer = Extract<AuthorizerAnswer, { kind: 'policy' }>;
const caches = new WeakMap<object, Map<string, ResultCache>>();

function cacheFor(deps: object, id: string): ResultCache {
  let byId = caches.get(deps);
  if (byId === undefined) caches.set(deps, (byId = new Map()));
  let c = byId.get(id);
  if (c === undefined) byId.set(id, (c = { entries: new Map(), inflight: new Map(), stats: { calls: 0, hits: 0 } }));
  return c;
}

type Source = (ctx: RequestContext) => string | undefined;

/** Compiles `header.X`, `query.X`, `context.a.b`, `stageVariables.X` into a reader. */
function compileSource(spec: string): Source {
  const dot = spec.indexOf('.');
  const kind = spec.slice(0, dot);
  const name = spec.slice(dot + 1);
  if (kind === 'header') {
    const lower = name.toLowerCase();
    return (ctx) => {
      const v = ctx.req.headers[lower];
      return Array.isArray(v) ? v.join(',') : v;
    };
  }
  if (kind === 'query') return (ctx) => new URLSearchParams(ctx.rawQuery).get(name) ?? undefined;
  if (kind === 'stageVariables') return (ctx) => (Object.hasOwn(ctx.stageVariables, name) ? ctx.stageVariables[name] : undefined);
  // context.X: a $context variable, walked over own properties only (never the prototype).
  const steps = name.split('.');
  return (ctx) => {
    let v: unknown = ctx;
    for (const s of steps) {
      if (typeof v !== 'object' || v === null || !Object.hasOwn(v, s)) return undefined;
      v = (v as Record<string, unknown>)[s];
    }
    return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
  };
}

/** The real request path for the method ARN: the route template with this request's parameters. */
function requestPath(ctx: RequestContext): string {
  const params = ctx.pathParameters;
  return ctx.resourcePath.replace(/\{([A-Za-z0-9_]+)\+?\}/g, (_m, n: string) => params[n] ?? '');
}

function firstValues(rawQuery: string): Record<string, string> | null {
  if (rawQuery === '') return null;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) if (!Object.hasOwn(out, k)) out[k] = v;
  return out;
}

function allValues(rawQuery: string): Record<string, string[]> | null {
  if (rawQuery === '') return null;
  const out: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(rawQuery)) (Object.hasOwn(out, k) ? out[k] : (out[k] = [])).push(v);
  return out;
}

/** Every value of every header, as AWS's multiValueHeaders (node's headersDistinct when the request has it). */
function multiHeaders(ctx: RequestContext): Record<string, string[]> {
  const distinct = (ctx.req as { headersDistinct?: Record<string, string[]> }).headersDistinct;
  if (distinct !== undefined) return { ...distinct };
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(ctx.req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v : [v];
  return out;
}

function singleHeaders(ctx: RequestContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(',') : v;
  return out;
}

const UNAUTHORIZED = (detail: string): Denial => deny('UNAUTHORIZED', { detail });
const CONFIG_ERROR = (detail: string): Denial => deny('AUTHORIZER_CONFIGURATION_ERROR', { detail });

export const customAuthStage: StageFactory<CustomAuthDeps> = Object.freeze({
  name: 'custom-authorizer',
  phase: 'authenticate' as const,
  create(build: RouteBuild<CustomAuthDeps>): StageFn | null {
    const auth = build.route.auth;
    if (typeof auth === 'string') return null;
    const a: CustomAuthorizer | undefined = (() => {
      const x = build.definition.authorizers?.[auth.authorizer];
      return x !== undefined && (x.type === 'token' || x.type === 'request') ? x : undefined;
    })();
    if (a === undefined) return null;
    const name = auth.authorizer;
    const { clock } = build.deps;
    const { region, accountId } = build.definition.settings;
    const { apiId, stageName } = build;
    const cache = cacheFor(build.deps, `${apiId}\n${stageName}\n${name}\n${JSON.stringify(a)}`);
    const ttlMs = a.resultTtlSeconds * 1000;
    // Pre-bound for this API and authorizer (definition names only, shared by the API's stages); with the cache
    // off (TTL 0) nothing is counted, as CloudWatch counts cache hits and misses only where caching is enabled.
    const cacheCount = ttlMs > 0 ? build.deps.authorizerMetrics?.cacheCounter(build.api.name || apiId, name) : undefined;
    const specs = a.identitySources ?? (a.type === 'token' ? ['header.Authorization'] : []);
    const sources = specs.map(compileSource);
    const regex = a.validationRegex !== undefined ? new RegExp(a.validationRegex) : undefined;
    const setHeaders = claimHeaderSetter(a.contextHeaders);
    const tag = `authorizer ${name}`;
    const deferImplicitDeny = build.api.resourcePolicy !== undefined;
    const methodArnOf = createMethodArnBuilder(build);
    const conditionContext = createConditionContextBuilder({ trustedProxies: createTrustedProxies(build.definition.settings.trustedProxies ?? []) });
    const invoke =
      a.module !== undefined
        ? createModuleInvoker(build.deps.authorizerModulesDir, a.module)
        : (ev: unknown, timeoutMs: number, simple: boolean) => invokeAuthorizer(a.url!, ev, timeoutMs, simple);

    function event(ctx: RequestContext, methodArn: string, token: string | undefined): unknown {
      if (a!.type === 'token') return { type: 'TOKEN', authorizationToken: token, methodArn };
      return {
        type: 'REQUEST',
        methodArn,
        resource: ctx.resourcePath,
        path: requestPath(ctx),
        httpMethod: ctx.httpMethod,
        headers: singleHeaders(ctx),
        multiValueHeaders: multiHeaders(ctx),
        queryStringParameters: firstValues(ctx.rawQuery),
        multiValueQueryStringParameters: allValues(ctx.rawQuery),
        pathParameters: ctx.pathParameters,
        stageVariables: ctx.stageVariables,
        requestContext: {
          accountId,
          apiId,
          httpMethod: ctx.httpMethod,
          path: ctx.path,
          protocol: ctx.protocol,
          requestId: ctx.requestId,
          requestTimeEpoch: ctx.requestTimeEpoch,
          resourcePath: ctx.resourcePath,
          stage: stageName,
          identity: { sourceIp: ctx.identity.sourceIp, userAgent: ctx.identity.userAgent, apiKey: ctx.identity.apiKey, clientCert: ctx.identity.clientCert ? awsClientCert(ctx.identity.clientCert) : null },
        },
      };
    }

    function decide(ctx: RequestContext, answer: PolicyAnswer, methodArn: string): Decision {
      // A policy without conditions or variables decides by method ARN alone: remember its decision per ARN.
      let memo: Map<string, Decision> | undefined;
      if (answer.contextFree) {
        memo = decisions.get(answer);
        if (memo === undefined) decisions.set(answer, (memo = new Map()));
        const known = memo.get(methodArn);
        if (known !== undefined) return known;
      }
      // The same condition keys as resource policies (aws:SourceIp through trusted proxies, aws:CurrentTime...).
      const { decision } = evaluate([answer.policy], { action: 'execute-api:Invoke', resource: methodArn, context: conditionContext(ctx) });
      if (memo !== undefined) {
        if (memo.size >= MAX_MEMO_ARNS) memo.clear();
        memo.set(methodArn, decision);
      }
      return decision;
    }

    function apply(ctx: RequestContext, answer: AuthorizerAnswer, methodArn: string): StageResult {
      switch (answer.kind) {
        case 'unauthorized':
          return UNAUTHORIZED(`${tag} answered Unauthorized`);
        case 'error':
          return CONFIG_ERROR(`${tag}: ${answer.detail}`);
        case 'simple': {
          ctx.authorizer = { ...answer.context };
          if (!answer.authorized) return deny('ACCESS_DENIED', { message: 'Forbidden', detail: `${tag}: isAuthorized false` });
          setHeaders(ctx, (k) => answer.context[k]);
          return undefined;
        }
        case 'policy': {
          // The (possibly cached) policy is evaluated against this request's own method ARN: a policy
          // written for one route never grants another (peer-gateways 4.8).
          ctx.authorizer = { ...answer.context, principalId: answer.principalId };
          const decision = decide(ctx, answer, methodArn);
          ctx.extensions.authorizerDecision = decision;
          if (decision === 'ExplicitDeny') return deny('ACCESS_DENIED', { message: LAMBDA_EXPLICIT_DENY_MESSAGE, detail: `${tag}: explicit deny for ${methodArn}` });
          // With a resource policy, "neither" is not final: AWS table A lets a resource-policy Allow through, and
          // the authorize stage (which always runs when the API has a resource policy) combines the two.
          if (decision !== 'Allow' && !deferImplicitDeny) return deny('ACCESS_DENIED', { message: LAMBDA_IMPLICIT_DENY_MESSAGE, detail: `${tag}: no statement allows ${methodArn}` });
          if (answer.usageIdentifierKey !== undefined) ctx.extensions.usageIdentifierKey = answer.usageIdentifierKey;
          setHeaders(ctx, (k) => (k === 'principalId' ? answer.principalId : answer.context[k]));
          return undefined;
        }
      }
    }

    return function customAuthorizer(ctx) {
      setHeaders.strip(ctx);
      const values: string[] = [];
      for (let i = 0; i < sources.length; i++) {
        const v = sources[i](ctx);
        // AWS: a missing or empty identity source is a 401 without calling the authorizer (TOKEN always;
        // REQUEST when caching, since the values are the cache key).
        if (v === undefined || v === '') {
          if (a.type === 'token' || ttlMs > 0) return UNAUTHORIZED(`${tag}: identity source ${specs[i]} is missing`);
          values.push('');
        } else values.push(v);
      }
      const token = a.type === 'token' ? values[0] : undefined;
      if (regex !== undefined && !regex.test(token!)) return UNAUTHORIZED(`${tag}: the token does not match validationRegex`);
      const methodArn = methodArnOf(ctx);
      const now = clock.now();
      // Identity values are credentials: the cache holds their SHA-256, not the values themselves.
      const key = hash('sha256', values.length === 1 ? values[0] : JSON.stringify(values), 'base64');
      if (ttlMs > 0) {
        const hit = cache.entries.get(key);
        if (hit !== undefined) {
          if (now < hit.expiresAt) {
            cache.stats.hits++;
            if (cacheCount !== undefined) cacheCount.hits++;
            return apply(ctx, hit.answer, methodArn);
          }
          cache.entries.delete(key);
        }
      }
      let pending = ttlMs > 0 ? cache.inflight.get(key) : undefined;
      if (pending !== undefined) {
        // Joins an identical call already in flight: the authorizer is not called again, so it counts as a hit.
        if (cacheCount !== undefined) cacheCount.hits++;
      } else {
        cache.stats.calls++;
        if (cacheCount !== undefined) cacheCount.misses++;
        pending = invoke(event(ctx, methodArn, token), a.timeoutMs, a.simpleResponses).then((answer) => {
          cache.inflight.delete(key);
          // Errors, timeouts and "Unauthorized" are never cached: only a policy or simple answer is.
          if (ttlMs > 0 && (answer.kind === 'policy' || answer.kind === 'simple')) {
            if (cache.entries.size >= MAX_CACHE_ENTRIES) cache.entries.delete(cache.entries.keys().next().value!);
            cache.entries.set(key, { answer, expiresAt: clock.now() + ttlMs });
          }
          return answer;
        });
        if (ttlMs > 0) cache.inflight.set(key, pending);
      }
      return pending.then((answer) => apply(ctx, answer, methodArn));
    };
  },
});

// Usage-plan throttling and quota for a request whose key is in a plan (reference sections 4.3, 4.4): the
// per-key bucket (or key+method bucket) joins the route/stage/account buckets in ONE takeBuckets call, then
// the quota counts the accepted request. Report-only plans count and report without refusing. 429s carry
// Retry-After; plans with rateLimitHeaders add the IETF RateLimit / RateLimit-Policy fields.
// Per key and route, the bucket list is built once and memoised on the key's usage identity.
import { deny, type Denial } from '../../../core/denial.ts';
import type { BucketDecision, BucketSpec, QuotaDecision } from '../../../store/counters/ports.ts';
import { effectiveLimit, windowEnd, windowStart } from '../../../keys/quota-window.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { StageResult } from '../../pipeline/stage.ts';
import { planKeys, type RoutePlan, type UsageIdentity } from '../api-key/schema.ts';
import { toDenial, type LabelledBucket, type ThrottleDeps } from './throttle-deps.ts';

type Maybe<T> = T | Promise<T>;
const then = <T, R>(v: Maybe<T>, f: (x: T) => Maybe<R>): Maybe<R> => (v instanceof Promise ? v.then(f) : f(v));

const QUOTA_STORE_CLOSED_DETAIL = 'quota: counter store unavailable, failing closed';
const PERIOD_SECONDS = { DAY: 86_400, WEEK: 604_800, MONTH: 2_592_000 } as const;

/** RateLimit-Policy per plan (draft-ietf-httpapi-ratelimit-headers): built once per compiled plan. */
const policies = new WeakMap<RoutePlan, string>();
function policyOf(plan: RoutePlan): string {
  let p = policies.get(plan);
  if (p === undefined) {
    const parts: string[] = [];
    const t = plan.throttle;
    if (t) parts.push(`"burst";q=${t.burstLimit};w=${t.rateLimit > 0 ? Math.max(1, Math.ceil(t.burstLimit / t.rateLimit)) : 1}`);
    if (plan.quota) parts.push(`"quota";q=${plan.quota.limit};w=${PERIOD_SECONDS[plan.quota.period]}`);
    p = parts.join(', ');
    policies.set(plan, p);
  }
  return p;
}

/** What a key's requests on one route check: the plan bucket first, then the route's buckets. */
interface KeyRouteBuckets {
  readonly specs: readonly BucketSpec[];
  readonly labels: readonly LabelledBucket[];
  readonly planSpec: BucketSpec | undefined;
  readonly quotaKey: string;
}

function keyRouteBuckets(u: UsageIdentity, routeBuckets: readonly LabelledBucket[], routeSpecs: readonly BucketSpec[]): KeyRouteBuckets {
  let memo = u.specs.get(routeBuckets) as KeyRouteBuckets | undefined;
  if (memo !== undefined) return memo;
  const plan = u.plan;
  const t = plan.throttle;
  const planSpec: BucketSpec | undefined = t && Object.freeze({
    key: t.method ? planKeys.methodBucket(plan.name, u.keyId, plan.methodScope) : planKeys.bucket(plan.name, u.keyId),
    rateLimit: t.rateLimit,
    burstLimit: t.burstLimit,
  });
  const label = t
    ? `Key throttle limit exceeded for Usage Plan ID ${plan.name}, key ${u.keyId}, ${plan.methodScope}. Limit: ${t.rateLimit.toFixed(2)} Burst: ${t.burstLimit}`
    : '';
  memo = {
    specs: planSpec && !plan.reportOnly ? [planSpec, ...routeSpecs] : routeSpecs,
    labels: planSpec && !plan.reportOnly ? [{ spec: planSpec, label }, ...routeBuckets] : routeBuckets,
    planSpec,
    quotaKey: planKeys.quota(plan.name, u.keyId),
  };
  u.specs.set(routeBuckets, memo);
  return memo;
}

function currentWindowEnd(plan: RoutePlan, now: number): number {
  const w = plan.window;
  if (now >= w.end || now < w.start) {
    w.start = windowStart(plan.quota!.period, now);
    w.end = windowEnd(plan.quota!.period, now);
  }
  return w.end;
}

export function createPlanThrottle(deps: ThrottleDeps, routeBuckets: readonly LabelledBucket[]) {
  const { counters, clock, usage: recorder, onReportOnly } = deps;
  const storeCounts = counters.countsUsage;
  const routeSpecs: readonly BucketSpec[] = routeBuckets.map((b) => b.spec);

  /** Adds the IETF RateLimit headers, to a response's gateway headers (name/value pairs) or to a denial's headers. */
  function setRateLimitHeaders(target: string[] | Record<string, string>, plan: RoutePlan, bucket: BucketDecision | undefined, quota: QuotaDecision | undefined, endMs: number, now: number): void {
    let value = '';
    const t = plan.throttle;
    if (t && bucket) {
      const missing = Math.max(0, t.burstLimit - bucket.remaining);
      value = `"burst";r=${bucket.remaining};t=${t.rateLimit > 0 ? Math.ceil(missing / t.rateLimit) : 0}`;
    }
    if (plan.quota && quota) value += `${value ? ', ' : ''}"quota";r=${quota.remaining};t=${Math.max(0, Math.ceil((endMs - now) / 1000))}`;
    if (Array.isArray(target)) {
      // Through ctx.gatewayHeaders, so the proxy keeps Node's one-array writeHead (a setHeader here would
      // send every upstream header through removeHeader + appendHeader).
      target.push('RateLimit-Policy', policyOf(plan));
      if (value) target.push('RateLimit', value);
    } else {
      target['RateLimit-Policy'] = policyOf(plan);
      if (value) target.RateLimit = value;
    }
  }

  return function planThrottle(ctx: RequestContext, u: UsageIdentity): Maybe<StageResult> {
    const plan = u.plan;
    const now = clock.now();
    const b = keyRouteBuckets(u, routeBuckets, routeSpecs);
    const endMs = plan.quota ? currentWindowEnd(plan, now) : 0;

    // `counted`: the counter store counted the request's usage with the decision that accepted it (Redis, in the
    // same script call); every other accepted request is counted by the recorder.
    const accept = (bucket: BucketDecision | undefined, q: QuotaDecision | undefined, counted: boolean): StageResult => {
      if (!counted) recorder?.count(u, now);
      if (plan.rateLimitHeaders && !ctx.res.headersSent) setRateLimitHeaders(ctx.gatewayHeaders, plan, bucket, q, endMs, now);
      return undefined;
    };

    const afterQuota = (bucket: BucketDecision | undefined, q: QuotaDecision, limit: number): StageResult => {
      if (q.degraded) {
        // The store could not be asked: the plan's fail mode if it has one, else the node's (q.allowed).
        const failMode = plan.quota?.failMode;
        if ((failMode === undefined ? q.allowed : failMode === 'open') || plan.reportOnly) return accept(bucket, q, false);
        // Failing closed: a short retry, the store may be back soon.
        return deny('QUOTA_EXCEEDED', { detail: QUOTA_STORE_CLOSED_DETAIL, headers: { 'Retry-After': '1' } });
      }
      // Every quota decision carries the key's usage record.
      if (q.allowed) return accept(bucket, q, storeCounts);
      const msg = `API Key ${ctx.identity.apiKey} exceeded quota limit for API Stage ${plan.methodScope}: Key quota exhausted for Usage Plan ID ${plan.name}. Limit: ${limit} Period: ${plan.quota!.period}`;
      if (plan.reportOnly) {
        onReportOnly?.(`report-only: ${msg}`);
        return accept(bucket, q, false);
      }
      const headers: Record<string, string> = { 'Retry-After': String(Math.max(1, Math.ceil((endMs - now) / 1000))) };
      if (plan.rateLimitHeaders) setRateLimitHeaders(headers, plan, bucket, q, endMs, now);
      return deny('QUOTA_EXCEEDED', { detail: msg, headers });
    };
    /** d: the decision that carried the usage record when the plan has no quota. */
    const afterBuckets = (bucket: BucketDecision | undefined, d: BucketDecision): Maybe<StageResult> => {
      if (!plan.quota) return accept(bucket, undefined, storeCounts && d.degraded !== true);
      const limit = effectiveLimit(plan.quota, u.subscribedAtMs, now);
      return then(counters.consumeQuota(b.quotaKey, limit, endMs, now, u.usageRecord), (q) => afterQuota(bucket, q, limit));
    };

    const refuse = (d: BucketDecision): Denial => {
      const base = toDenial(d, b.labels);
      if (!plan.rateLimitHeaders) return base;
      const headers: Record<string, string> = { ...base.headers };
      setRateLimitHeaders(headers, plan, d, undefined, endMs, now);
      return { ...base, headers };
    };

    if (b.planSpec && plan.reportOnly) {
      // Two calls: a report-only refusal must not keep the stage and account tokens from being taken.
      return then(counters.takeBuckets([b.planSpec], now), (pd) => {
        if (!pd.allowed) onReportOnly?.(`report-only: Key throttle limit exceeded for Usage Plan ID ${plan.name}, key ${u.keyId}, ${plan.methodScope}`);
        return then(counters.takeBuckets(routeSpecs, now, plan.quota ? undefined : u.usageRecord), (d) => (d.allowed ? afterBuckets(pd, d) : refuse(d)));
      });
    }
    if (plan.quota) {
      // Buckets and quota in one counter call: one Redis round trip per request.
      const limit = effectiveLimit(plan.quota, u.subscribedAtMs, now);
      return then(counters.takeBucketsAndQuota(b.specs, { key: b.quotaKey, limit, windowEndMs: endMs }, now, u.usageRecord), (c) =>
        c.buckets.allowed ? afterQuota(b.planSpec ? c.buckets : undefined, c.quota!, limit) : refuse(c.buckets),
      );
    }
    return then(counters.takeBuckets(b.specs, now, u.usageRecord), (d) => (d.allowed ? afterBuckets(b.planSpec ? d : undefined, d) : refuse(d)));
  };
}

// The throttle phase (reference section 4.3): per route, the route/stage/account buckets are fixed when the
// snapshot is compiled; per request, one all-or-nothing takeBuckets call, which for a key in a usage plan
// also holds the plan's per-key bucket (plan-throttle.ts, which then applies the quota).
import type { Throttle } from '../../../config/schema.ts';
import type { BucketDecision, BucketSpec } from '../../../store/counters/ports.ts';
import type { RouteBuild, StageFactory, StageFn, StageResult } from '../../pipeline/stage.ts';
import { ALL_ROUTES_KEY, AccountThrottleSchema, bucketKeys, routeThrottleKey } from './schema.ts';
import { createPlanThrottle } from './plan-throttle.ts';
import { toDenial, type LabelledBucket, type ThrottleDeps } from './throttle-deps.ts';

export { MAX_RETRY_AFTER_S, toDenial, type LabelledBucket, type ThrottleDeps } from './throttle-deps.ts';
import { USAGE_EXTENSION, type UsageIdentity } from '../api-key/schema.ts';

/**
 * The buckets a route passes through, most specific first: the route's method setting (its own entry, else
 * the stage's "*\/*" entry, one bucket per route either way, as AWS applies "*\/*" per method), the stage
 * throttle shared by all routes of the stage, and the account bucket.
 */
export function throttleBuckets(build: RouteBuild<ThrottleDeps>): readonly LabelledBucket[] {
  const { apiId, stageName, stage, route } = build;
  const buckets: LabelledBucket[] = [];
  const own = routeThrottleKey(route.path, route.method);
  const routeThrottles = stage.routeThrottles;
  const [setting, settingKey] =
    routeThrottles?.[own] !== undefined
      ? [routeThrottles[own], own]
      : routeThrottles?.[ALL_ROUTES_KEY] !== undefined
        ? [routeThrottles[ALL_ROUTES_KEY], ALL_ROUTES_KEY]
        : [undefined, ''];
  if (setting !== undefined) {
    const key = bucketKeys.route(apiId, stageName, route.method, route.path);
    buckets.push(labelled(key, setting, `route throttle routeThrottles["${settingKey}"]`));
  }
  if (stage.throttle !== undefined) {
    buckets.push(labelled(bucketKeys.stage(apiId, stageName), stage.throttle, 'stage throttle'));
  }
  buckets.push(accountBucket(build.definition.settings.accountThrottle));
  return buckets;
}

function labelled(key: string, t: Throttle, what: string): LabelledBucket {
  return Object.freeze({
    spec: Object.freeze({ key, rateLimit: t.rateLimit, burstLimit: t.burstLimit }),
    label: `${what} bucket ${key} (rate ${t.rateLimit}/s, burst ${t.burstLimit})`,
  });
}

// One validated account bucket per definition (settings.accountThrottle), shared by every route compiled with it.
const accountBuckets = new WeakMap<object, LabelledBucket>();
function accountBucket(settings: Throttle): LabelledBucket {
  let bucket = accountBuckets.get(settings);
  if (bucket === undefined) {
    const parsed = AccountThrottleSchema.safeParse(settings);
    if (!parsed.success) throw new Error(`accountThrottle: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    bucket = labelled(bucketKeys.account(), parsed.data, 'account throttle');
    accountBuckets.set(settings, bucket);
  }
  return bucket;
}

export const throttleStage: StageFactory<ThrottleDeps> = Object.freeze({
  name: 'throttle',
  phase: 'throttle' as const,
  create(build: RouteBuild<ThrottleDeps>): StageFn {
    const buckets = throttleBuckets(build);
    // Routes without a bucket of their own share one function per stage (10,000 routes, not 10,000 closures).
    const shareKey = buckets.map((b) => `${b.spec.key}:${b.spec.rateLimit}:${b.spec.burstLimit}`).join('|');
    let shared = sharedThrottles.get(build.deps);
    if (shared === undefined) sharedThrottles.set(build.deps, (shared = new Map()));
    const existing = shared.get(shareKey);
    if (existing !== undefined) return existing;
    const fn = createThrottleFn(buckets, build.deps);
    if (!buckets.some((b) => b.spec.key.startsWith('r:'))) shared.set(shareKey, fn);
    return fn;
  },
});

const sharedThrottles = new WeakMap<ThrottleDeps, Map<string, StageFn>>();

function createThrottleFn(buckets: readonly LabelledBucket[], deps: ThrottleDeps): StageFn {
  const specs: readonly BucketSpec[] = Object.freeze(buckets.map((b) => b.spec));
  const { counters, clock } = deps;
  // Fail-open answers (decision.degraded, allowed) pass like any other; counters.health() and its
  // onHealthChange callback tell the logs and /readyz.
  const decide = (d: BucketDecision): StageResult => (d.allowed ? undefined : toDenial(d, buckets));
  const planThrottle = createPlanThrottle(deps, buckets);
  return function throttle(ctx) {
    // Set by the api-key stage on apiKeyRequired routes once the key is known to be in a plan for this stage.
    const usage = ctx.extensions?.[USAGE_EXTENSION] as UsageIdentity | undefined;
    if (usage !== undefined) return planThrottle(ctx, usage);
    const d = counters.takeBuckets(specs, clock.now());
    // The memory store answers synchronously: no promise, no microtask on the hot path.
    return d instanceof Promise ? d.then(decide) : decide(d);
  };
}

// What the api-key stage hands the throttle stage: the usage plan that covers the request's API stage,
// compiled per route (plan bucket, per-method override, quota), and the stable counter keys it uses.
import type { Definition } from '../../../config/schema.ts';
import type { UsagePlan } from '../../../config/usage-plan-schema.ts';
import type { QuotaPeriod } from '../../../keys/quota-window.ts';

/** The ctx.extensions name the api-key stage sets and the throttle stage reads. */
export const USAGE_EXTENSION = 'usagePlan';
/** The ctx.extensions name a custom authorizer sets for apiKeySource AUTHORIZER (its usageIdentifierKey). */
export const USAGE_IDENTIFIER_EXTENSION = 'usageIdentifierKey';

export interface RoutePlan {
  readonly name: string;
  /** Plan (or per-method override) throttle per key; undefined when the plan has none. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number; readonly method: boolean } | undefined;
  readonly quota: { readonly limit: number; readonly period: QuotaPeriod; readonly offset: number; readonly failMode?: 'open' | 'closed' } | undefined;
  readonly reportOnly: boolean;
  readonly rateLimitHeaders: boolean;
  /** "{apiId}:{stage}:{METHOD}:{path}" for a per-method bucket. */
  readonly methodScope: string;
  /** The live quota window, recomputed only when it ends (no Date work per request). */
  readonly window: { start: number; end: number };
}

/** Set on ctx.extensions[USAGE_EXTENSION] once a key is accepted. */
export interface UsageIdentity {
  readonly plan: RoutePlan;
  readonly keyId: string;
  readonly subscribedAtMs: number;
  /** The key's usage record under the plan (usageRecordId), for a counter store that counts usage with its decisions. */
  readonly usageRecord: string;
  /** Memo of the throttle stage: route buckets -> the bucket list with this key's plan bucket in front. */
  readonly specs: WeakMap<object, unknown>;
}

export const planKeys = {
  /** AWS counts a plan's throttle per key across every stage of the plan. */
  bucket: (plan: string, keyId: string): string => `pk:${plan}:${keyId}`,
  methodBucket: (plan: string, keyId: string, scope: string): string => `pkm:${plan}:${keyId}:${scope}`,
  quota: (plan: string, keyId: string): string => `q:${plan}:${keyId}`,
} as const;

/** The plans covering (api, stage), compiled for one route; keyed by plan name. */
export function plansForRoute(definition: Definition, apiName: string, apiId: string, stageName: string, method: string, path: string): Map<string, RoutePlan> {
  const out = new Map<string, RoutePlan>();
  for (const plan of definition.usagePlans as readonly UsagePlan[]) {
    const entry = plan.apiStages.find((s) => s.api === apiName && s.stage === stageName);
    if (!entry) continue;
    const override = entry.throttle?.[`${path}/${method}`];
    const t = override ?? plan.throttle;
    out.set(
      plan.name,
      Object.freeze({
        name: plan.name,
        throttle: t ? Object.freeze({ rateLimit: t.rateLimit, burstLimit: t.burstLimit, method: override !== undefined }) : undefined,
        quota: plan.quota ? Object.freeze({ ...plan.quota }) : undefined,
        reportOnly: plan.reportOnly,
        rateLimitHeaders: plan.rateLimitHeaders,
        methodScope: `${apiId}:${stageName}:${method}:${path}`,
        window: { start: 0, end: 0 },
      }),
    );
  }
  return out;
}

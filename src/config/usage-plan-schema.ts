// The `usagePlans` section of a definition (AWS usage plans): which API stages a plan covers, per-key throttle
// (with per-method overrides keyed "/pets/GET"), quota per DAY|WEEK|MONTH, report-only mode. Keys subscribe at run time.
import { z } from 'zod';

const PLAN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

// Same shape as ThrottleSchema in schema.ts (defined here too: schema.ts imports this file).
const PlanThrottleSchema = z
  .strictObject({
    rateLimit: z.number().min(0).max(1_000_000).describe('Steady-state requests per second per key (token refill rate).'),
    burstLimit: z.number().int().min(0).max(1_000_000).describe('Bucket capacity per key.'),
  })
  .describe('A token bucket per API key: refills continuously at rateLimit, holds at most burstLimit, starts full.');

export const QuotaSchema = z
  .strictObject({
    limit: z.number().int().min(0).max(1_000_000_000_000).describe('Accepted requests per key per period.'),
    period: z.enum(['DAY', 'WEEK', 'MONTH']).describe('UTC calendar period: DAY from 00:00, WEEK from Monday 00:00, MONTH from the 1st.'),
    offset: z.number().int().min(0).default(0).describe('Requests subtracted from limit in the first period of a subscription (AWS).'),
    failMode: z
      .enum(['open', 'closed'])
      .optional()
      .describe('While the counter store (Redis) cannot be asked: "open" lets this plan\'s requests through, "closed" answers 429 Limit Exceeded. Default: the node\'s PORTCULLIS_COUNTERS_QUOTA_FAIL_MODE.'),
  })
  .describe('How many accepted requests each key may make per period, counted across every stage of the plan.');

export const UsagePlanApiStageSchema = z.strictObject({
  api: z.string().min(1).max(128).describe('Name of an API in `apis`.'),
  stage: z.string().min(1).max(128).describe('A stage of that API.'),
  throttle: z
    .record(z.string(), PlanThrottleSchema)
    .optional()
    .describe('Per-method throttle per key, keyed "/path/METHOD" as in AWS (for example "/pets/GET"); replaces the plan throttle for that method.'),
});

export const UsagePlanSchema = z.strictObject({
  name: z.string().regex(PLAN_NAME, 'plan names are 1-128 letters, digits, ".", "_" or "-"').describe('Unique plan name; keys subscribe to it.'),
  description: z.string().max(1024).optional(),
  apiStages: z.array(UsagePlanApiStageSchema).min(1).max(100).describe('The API stages this plan covers.'),
  throttle: PlanThrottleSchema.optional(),
  quota: QuotaSchema.optional(),
  reportOnly: z.boolean().default(false).describe('Count and log throttle and quota hits without rejecting (shadow mode).'),
  rateLimitHeaders: z.boolean().default(true).describe('Send IETF RateLimit and RateLimit-Policy headers on responses of this plan.'),
});

export const UsagePlansSchema = z
  .array(UsagePlanSchema)
  .max(1000)
  .default([])
  .describe('Usage plans: per-key throttles and quotas for API stages (AWS usage plans). Keys subscribe through the admin API or CLI.');

export type UsagePlan = z.infer<typeof UsagePlanSchema>;
export type Quota = z.infer<typeof QuotaSchema>;

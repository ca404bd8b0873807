// The `monitoring` section of the definition: CloudWatch-style alarms over the gateway's own traffic (static
// threshold or learned anomaly band), the built-in attack rules, notification webhooks and automatic responses.
import { z } from 'zod';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]{0,127}$/;

/** Metrics an alarm can watch, computed per period from finished requests (docs/monitoring.md). */
export const ALARM_METRICS = [
  'Count',
  '4XXError',
  '5XXError',
  'ThrottleCount',
  'AuthFailures',
  '4XXErrorRate',
  '5XXErrorRate',
  'Latency',
  'IntegrationLatency',
  'DistinctSourceIps',
  'DistinctFailedSourceIps',
  'DistinctFailedCredentials',
] as const;
export type AlarmMetric = (typeof ALARM_METRICS)[number];

/** What one alarm series is about: the whole gateway, one API, one API key, or one source address. */
export const ALARM_DIMENSIONS = ['gateway', 'api', 'apiKey', 'sourceIp'] as const;
export type AlarmDimension = (typeof ALARM_DIMENSIONS)[number];

export const COMPARISONS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
] as const;

const NotifySchema = z
  .array(z.string().min(1).max(128))
  .max(10)
  .default(['log'])
  .describe('Where state changes go: "log" (the application log) and/or names of monitoring.webhooks.');

const ActionsSchema = z
  .strictObject({
    blockSourceIp: z
      .strictObject({
        seconds: z.number().int().min(1).max(30 * 86_400).describe('How long the address is answered 403 WAF_FILTERED.'),
      })
      .optional()
      .describe('Block the offending source address (alarms with per: sourceIp only).'),
    disableApiKey: z.boolean().optional().describe('Disable the offending API key (alarms with per: apiKey only).'),
  })
  .default({})
  .describe('Automatic responses when a series enters ALARM; each off by default and audited.');

const AnomalyBandSchema = z.strictObject({
  width: z.number().min(0.5).max(20).default(3).describe('Band half-width in standard deviations of the learned baseline.'),
  trainingPeriods: z.number().int().min(2).max(1000).default(10).describe('Datapoints learned before the band is used.'),
  direction: z.enum(['upper', 'both']).default('upper').describe('Flag values above the band only, or outside it.'),
  minWidth: z.number().min(0).optional().describe('Smallest band half-width (default: 1 for counts, 0.05 for rates, 5 ms for latencies).'),
});

export const AlarmSchema = z
  .strictObject({
    name: z.string().regex(NAME, 'alarm names are 1-128 letters, digits, ".", "_" or "-"'),
    description: z.string().max(1024).optional(),
    metric: z.enum(ALARM_METRICS),
    per: z.enum(ALARM_DIMENSIONS).default('gateway').describe('One series for the gateway, or one per API, API key or source address.'),
    api: z.string().max(128).optional().describe('Only requests of this API (by name).'),
    periodSeconds: z.number().int().min(1).max(86_400).default(60),
    evaluationPeriods: z.number().int().min(1).max(100).default(1),
    datapointsToAlarm: z.number().int().min(1).max(100).optional().describe('Default: evaluationPeriods.'),
    threshold: z.number().min(0).optional(),
    comparison: z.enum(COMPARISONS).default('GreaterThanOrEqualToThreshold'),
    anomalyBand: AnomalyBandSchema.optional().describe('Compare with a baseline learned online instead of a static threshold.'),
    treatMissingData: z
      .enum(['missing', 'notBreaching', 'breaching', 'ignore'])
      .optional()
      .describe('Periods without data (rates and latencies have none without requests). Default: notBreaching.'),
    notify: NotifySchema,
    actions: ActionsSchema,
  })
  .superRefine((a, ctx) => {
    if ((a.threshold === undefined) === (a.anomalyBand === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['threshold'], message: 'an alarm needs exactly one of threshold and anomalyBand' });
    }
    if (a.datapointsToAlarm !== undefined && a.datapointsToAlarm > a.evaluationPeriods) {
      ctx.addIssue({ code: 'custom', path: ['datapointsToAlarm'], message: 'datapointsToAlarm cannot exceed evaluationPeriods' });
    }
    if (a.actions.blockSourceIp && a.per !== 'sourceIp') {
      ctx.addIssue({ code: 'custom', path: ['actions', 'blockSourceIp'], message: 'blockSourceIp needs per: sourceIp' });
    }
    if (a.actions.disableApiKey && a.per !== 'apiKey') {
      ctx.addIssue({ code: 'custom', path: ['actions', 'disableApiKey'], message: 'disableApiKey needs per: apiKey' });
    }
  });
export type AlarmDefinition = z.infer<typeof AlarmSchema>;

const RuleSchema = z.union([
  z.literal(false),
  z.strictObject({
    threshold: z.number().min(0).optional(),
    periodSeconds: z.number().int().min(1).max(86_400).optional(),
    notify: z.array(z.string().min(1).max(128)).max(10).optional(),
    actions: ActionsSchema.optional(),
  }),
]);
export type RuleSettings = z.infer<typeof RuleSchema>;

export const WebhookSchema = z.strictObject({
  url: z.string().url().max(2048).describe('http(s) URL receiving a JSON POST per state change.'),
  secretEnv: z
    .string()
    .regex(ENV_NAME, 'an environment variable name')
    .optional()
    .describe('Environment variable holding the HMAC-SHA256 key (never the key itself: definitions are stored and audited).'),
  timeoutMs: z.number().int().min(100).max(60_000).default(5000),
});

export const MonitoringSchema = z
  .strictObject({
    rules: z
      .strictObject({
        credentialStuffing: RuleSchema.optional(),
        keyEnumeration: RuleSchema.optional(),
        distributedKeyAttack: RuleSchema.optional(),
        keySpread: RuleSchema.optional(),
        errorSpike: RuleSchema.optional(),
        latencySpike: RuleSchema.optional(),
      })
      .default({})
      .describe('Built-in attack and regression rules (docs/monitoring.md); false turns one off.'),
    alarms: z.array(AlarmSchema).max(200).default([]),
    webhooks: z.record(z.string().regex(NAME), WebhookSchema).default({}),
    maxSeriesPerAlarm: z.number().int().min(10).max(1_000_000).default(10_000).describe('Bound on tracked API keys or addresses per alarm.'),
  })
  .superRefine((m, ctx) => {
    const names = new Set<string>();
    const check = (notify: readonly string[] | undefined, path: (string | number)[]) => {
      for (const [i, n] of (notify ?? []).entries()) {
        if (n !== 'log' && !Object.hasOwn(m.webhooks, n)) {
          ctx.addIssue({ code: 'custom', path: [...path, i], message: `unknown webhook "${n}" (define it under monitoring.webhooks)` });
        }
      }
    };
    for (const [i, a] of m.alarms.entries()) {
      if (names.has(a.name)) ctx.addIssue({ code: 'custom', path: ['alarms', i, 'name'], message: `duplicate alarm name "${a.name}"` });
      names.add(a.name);
      check(a.notify, ['alarms', i, 'notify']);
    }
    const perSource = new Set(['credentialStuffing', 'keyEnumeration']);
    for (const [rule, r] of Object.entries(m.rules)) {
      if (!r) continue;
      check(r.notify, ['rules', rule, 'notify']);
      if (r.actions?.blockSourceIp && !perSource.has(rule)) {
        ctx.addIssue({ code: 'custom', path: ['rules', rule, 'actions', 'blockSourceIp'], message: `the ${rule} rule is not about one source address` });
      }
      if (r.actions?.disableApiKey && rule !== 'distributedKeyAttack' && rule !== 'keySpread') {
        ctx.addIssue({ code: 'custom', path: ['rules', rule, 'actions', 'disableApiKey'], message: `the ${rule} rule is not about one API key` });
      }
    }
  })
  .describe('Anomaly detection and alarms over this gateway\'s traffic (docs/monitoring.md). Absent: off.');
export type MonitoringDefinition = z.infer<typeof MonitoringSchema>;

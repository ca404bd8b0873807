// The gateway's watch over its own traffic: feeds every finished request to the alarms of the installed
// definition's `monitoring` section, evaluates them on the injected clock, and on a state change notifies
// (log, signed webhooks), records the change in the audit trail and runs the alarm's automatic responses:
// blocking a source address (answered 403 WAF_FILTERED) or disabling an API key.
import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../../core/clock.ts';
import { deny, type Denial } from '../../core/denial.ts';
import type { Definition } from '../../config/schema.ts';
import type { RequestContext } from '../../gateway/pipeline/context.ts';
import type { Logger } from '../logger.ts';
import { compileAlarm, type AlarmState, type CompiledAlarm, type RequestSignal, type StateChange } from './engine.ts';
import { alarmsOf } from './rules.ts';
import { createNotifier, type Notifier, type WebhookTarget } from './notify.ts';
import type { AlarmDefinition, MonitoringDefinition } from './schema.ts';

/** The slice of the audit trail the monitor writes to (audit/audit-trail.ts). */
export interface MonitorAudit {
  record(input: {
    eventName: string;
    userIdentity: { type: 'Gateway'; userName: string };
    requestParameters?: unknown;
    responseElements?: unknown;
    errorCode?: string;
    errorMessage?: string;
    readOnly: boolean;
  }): Promise<unknown>;
}

export interface MonitorOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly env: NodeJS.ProcessEnv;
  readonly audit?: MonitorAudit;
  /** Registers the monitor's Prometheus metrics there (docs/metrics.md). */
  readonly registry?: Registry;
  /** Disables an API key (the key service); absent: the disableApiKey response is reported as unavailable. */
  readonly disableApiKey?: (keyId: string, reason: string) => Promise<void>;
  /** How often the evaluation timer runs (ms, default 5000); 0: only when evaluate() is called. */
  readonly evaluateEveryMs?: number;
  readonly notifier?: Notifier;
}

export interface AlarmSeriesStatus {
  readonly dimension: string;
  readonly state: AlarmState;
  readonly reason: string;
  readonly stateChangedAt: string;
}

export interface AlarmStatus {
  readonly name: string;
  readonly description?: string;
  readonly metric: string;
  readonly per: string;
  /** The worst state over the alarm's series (ALARM > INSUFFICIENT_DATA > OK). */
  readonly state: AlarmState;
  readonly counts: Readonly<Record<AlarmState, number>>;
  /** Series not in OK (for per: apiKey and sourceIp, quiet OK series are forgotten). */
  readonly series: readonly AlarmSeriesStatus[];
}

export interface BlockedSource {
  readonly sourceIp: string;
  readonly until: string;
  readonly alarm: string;
}

export interface Monitor {
  configure(definition: Definition): void;
  /** Alarms defined through the admin API (runtime-alarms.ts), evaluated next to the definition's. */
  setRuntimeAlarms(alarms: readonly AlarmDefinition[]): void;
  /** Why an alarm cannot be added at run time (a name taken by the definition, an unknown webhook), or undefined. */
  checkRuntimeAlarm(alarm: AlarmDefinition): string | undefined;
  /** The log phase: one call per finished request. */
  onRequestEnd(ctx: RequestContext): void;
  /** Before the route: a blocked source address is refused as AWS WAF would (403 WAF_FILTERED). */
  screen(ctx: RequestContext): Denial | undefined;
  /** Closes finished periods and acts on state changes (the timer calls it; tests call it after moving the clock). */
  evaluate(): void;
  alarms(): AlarmStatus[];
  blocked(): BlockedSource[];
  unblock(sourceIp: string): boolean;
  /** Resolves once notifications, audit records and responses started so far are done. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const AUTH_FAILURES = new Set(['UNAUTHORIZED', 'INVALID_API_KEY', 'INVALID_SIGNATURE', 'EXPIRED_TOKEN']);
const WAF_BLOCK: Denial = deny('WAF_FILTERED', { detail: 'source address blocked by an alarm' });
const MONITOR_IDENTITY = { type: 'Gateway' as const, userName: 'portcullis monitor' };

/** Whether a finished request was refused for its credentials (the reason label of auth-failure metrics). */
export function authFailureReason(ctx: RequestContext): string | undefined {
  const type = ctx.error.responseType;
  if (!type) return undefined;
  if (AUTH_FAILURES.has(type)) return type;
  // Without a route this type means "no such resource", not a missing credential (reference section 13.1).
  if (type === 'MISSING_AUTHENTICATION_TOKEN' && ctx.route) return type;
  return undefined;
}

export function createMonitor(options: MonitorOptions): Monitor {
  const { clock, env } = options;
  const logger = options.logger.child({ component: 'monitor' });
  let alarms: CompiledAlarm[] = [];
  let definition: Definition | undefined;
  let runtimeAlarms: readonly AlarmDefinition[] = [];
  let definedNames = new Set<string>();
  const compiledKeys = new WeakMap<CompiledAlarm, string>();
  let webhooks = new Map<string, WebhookTarget>();
  const blocks = new Map<string, { until: number; alarm: string }>();
  const work = new Set<Promise<unknown>>();

  const metrics = options.registry ? registerMetrics(options.registry) : undefined;
  const notifier =
    options.notifier ??
    createNotifier({
      onResult: (target, result, detail) => {
        metrics?.notifications.inc({ webhook: target, result });
        if (result !== 'delivered') logger.warn({ webhook: target, detail }, `alarm notification ${result}`);
      },
    });

  const track = (p: Promise<unknown>) => {
    const q = p.catch((err: unknown) => logger.error({ err: String(err) }, 'alarm follow-up failed')).finally(() => work.delete(q));
    work.add(q);
  };

  function onStateChange(change: StateChange): void {
    const { alarm, dimension, oldState, newState, reason } = change;
    const time = new Date(change.time).toISOString();
    const dims = dimension ? [{ name: dimensionName(alarm.per), value: dimension }] : [];
    const spec = alarm.spec;
    const message = {
      AlarmName: alarm.name,
      AlarmDescription: spec.description ?? null,
      NewStateValue: newState,
      OldStateValue: oldState,
      NewStateReason: reason,
      StateChangeTime: time,
      Dimensions: dims,
      Trigger: {
        MetricName: spec.metric,
        Namespace: 'Portcullis',
        Period: spec.periodSeconds,
        EvaluationPeriods: spec.evaluationPeriods,
        DatapointsToAlarm: alarm.datapointsToAlarm,
        ComparisonOperator: spec.anomalyBand ? (spec.anomalyBand.direction === 'upper' ? 'GreaterThanUpperThreshold' : 'LessThanLowerOrGreaterThanUpperThreshold') : spec.comparison,
        ...(spec.threshold !== undefined ? { Threshold: spec.threshold } : {}),
        ...(change.reasonData.band ? { Band: change.reasonData.band } : {}),
      },
      Datapoints: change.reasonData.datapoints,
    };
    for (const target of spec.notify) {
      if (target === 'log') {
        const entry = { alarm: alarm.name, dimension: dimension || undefined, oldState, newState, reason };
        if (newState === 'ALARM') logger.warn(entry, `alarm ${alarm.name} is ALARM${dimension ? ` for ${dimension}` : ''}`);
        else logger.info(entry, `alarm ${alarm.name} is ${newState}${dimension ? ` for ${dimension}` : ''}`);
      } else {
        const hook = webhooks.get(target);
        if (hook) notifier.send(hook, message, change.time);
      }
    }
    if (options.audit) {
      track(
        options.audit.record({
          eventName: 'SetAlarmState',
          userIdentity: MONITOR_IDENTITY,
          // Dimensions as a map: the audit redaction treats any member named `value` as a secret.
          requestParameters: { alarmName: alarm.name, dimensions: Object.fromEntries(dims.map((d) => [d.name, d.value])) },
          responseElements: { oldState, newState, reason, stateChangeTime: time },
          readOnly: false,
        }),
      );
    }
    if (newState === 'ALARM') respond(alarm, dimension, change.time);
  }

  function respond(alarm: CompiledAlarm, dimension: string, now: number): void {
    const { blockSourceIp, disableApiKey } = alarm.spec.actions;
    if (blockSourceIp && alarm.per === 'sourceIp') {
      const until = now + blockSourceIp.seconds * 1000;
      blocks.set(dimension, { until, alarm: alarm.name });
      metrics?.blocks.set(blocks.size);
      logger.warn({ sourceIp: dimension, alarm: alarm.name, until: new Date(until).toISOString() }, `blocking ${dimension} for ${blockSourceIp.seconds} s`);
      if (options.audit) {
        track(
          options.audit.record({
            eventName: 'BlockSourceIp',
            userIdentity: MONITOR_IDENTITY,
            requestParameters: { sourceIp: dimension, seconds: blockSourceIp.seconds, alarmName: alarm.name },
            responseElements: { until: new Date(until).toISOString() },
            readOnly: false,
          }),
        );
      }
    }
    if (disableApiKey && alarm.per === 'apiKey') {
      const reason = `alarm ${alarm.name}`;
      const known = !dimension.startsWith('unknown:');
      const run = async () => {
        let errorMessage: string | undefined;
        if (!known) errorMessage = 'the key is not one of this gateway\'s keys; nothing to disable';
        else if (!options.disableApiKey) errorMessage = 'API keys cannot be disabled on this node';
        else {
          try {
            await options.disableApiKey(dimension, reason);
            logger.warn({ apiKeyId: dimension, alarm: alarm.name }, `disabled API key ${dimension}`);
          } catch (err) {
            errorMessage = (err as Error).message;
          }
        }
        await options.audit?.record({
          eventName: 'UpdateApiKey',
          userIdentity: MONITOR_IDENTITY,
          requestParameters: { apiKeyId: dimension, enabled: false, alarmName: alarm.name },
          responseElements: errorMessage ? null : { id: dimension, enabled: false },
          ...(errorMessage ? { errorCode: 'ActionFailed', errorMessage } : {}),
          readOnly: false,
        });
      };
      track(run());
    }
  }

  function evaluate(): void {
    const now = clock.now();
    for (const a of alarms) a.evaluate(now);
    for (const [ip, b] of blocks) {
      if (b.until > now) continue;
      blocks.delete(ip);
      logger.info({ sourceIp: ip, alarm: b.alarm }, `block of ${ip} expired`);
    }
    metrics?.blocks.set(blocks.size);
  }

  /**
   * Compiles the definition's rules and alarms and the runtime ones. An alarm whose settings, the API list and the
   * series bound are unchanged keeps its compiled state (states, open periods, learned baselines).
   */
  function rebuild(): void {
    const monitoring = definition?.monitoring as MonitoringDefinition | undefined;
    const defined = monitoring ? alarmsOf(monitoring) : [];
    definedNames = new Set(defined.map((a) => a.name));
    const specs = [...defined, ...runtimeAlarms.filter((a) => !definedNames.has(a.name))];
    webhooks = new Map(
      Object.entries(monitoring?.webhooks ?? {}).map(([name, w]) => {
        const secret = w.secretEnv ? env[w.secretEnv] : undefined;
        if (w.secretEnv && !secret) logger.warn({ webhook: name }, `monitoring.webhooks.${name}: ${w.secretEnv} is not set; notifications go unsigned`);
        return [name, { name, url: w.url, timeoutMs: w.timeoutMs, ...(secret ? { secret } : {}) }];
      }),
    );
    const apis = definition?.apis.map((a) => a.name) ?? [];
    const maxSeries = monitoring?.maxSeriesPerAlarm ?? 10_000;
    const previous = new Map(alarms.map((a) => [a.name, a]));
    const now = clock.now();
    alarms = specs.map((spec) => {
      const key = JSON.stringify([spec, apis, maxSeries]);
      const old = previous.get(spec.name);
      if (old && compiledKeys.get(old) === key) return old;
      const compiled = compileAlarm(spec, now, { maxSeries, apis, onStateChange });
      compiledKeys.set(compiled, key);
      return compiled;
    });
  }

  const timerMs = options.evaluateEveryMs ?? 5000;
  const timer = timerMs > 0 ? setInterval(evaluate, timerMs) : undefined;
  timer?.unref();

  return {
    configure(next) {
      definition = next;
      rebuild();
    },
    setRuntimeAlarms(list) {
      runtimeAlarms = list;
      rebuild();
    },
    checkRuntimeAlarm(alarm) {
      if (definedNames.has(alarm.name)) return `the alarm name "${alarm.name}" is taken by the definition (monitoring.alarms or a rule)`;
      for (const n of alarm.notify) if (n !== 'log' && !webhooks.has(n)) return `unknown webhook "${n}" in notify (define it under monitoring.webhooks)`;
      return undefined;
    },
    onRequestEnd(ctx) {
      if (alarms.length === 0) return;
      const reason = authFailureReason(ctx);
      const signal: RequestSignal = {
        api: ctx.apiName,
        sourceIp: ctx.identity.sourceIp,
        apiKey: ctx.identity.apiKeyId || (reason ? unknownKey(ctx) : ''),
        status: ctx.status,
        authFailure: reason !== undefined,
        credential: reason ? credentialHash(ctx) : '',
        latency: ctx.responseLatency,
        integrationLatency: ctx.integration.latency,
      };
      const now = clock.now();
      for (const a of alarms) a.observe(signal, now);
    },
    screen(ctx) {
      if (blocks.size === 0) return undefined;
      const b = blocks.get(ctx.identity.sourceIp);
      if (!b) return undefined;
      if (b.until <= clock.now()) return undefined;
      metrics?.blockedRequests.inc();
      ctx.extensions['waf.status'] = 403;
      ctx.extensions.wafResponseCode = 'WAF_BLOCK';
      return WAF_BLOCK;
    },
    evaluate,
    alarms() {
      return alarms.map((a) => {
        const counts: Record<AlarmState, number> = { OK: 0, ALARM: 0, INSUFFICIENT_DATA: 0 };
        const series: AlarmSeriesStatus[] = [];
        for (const s of a.series.values()) {
          counts[s.state]++;
          if (s.state !== 'OK' || a.per === 'gateway' || a.per === 'api') {
            series.push({ dimension: s.dimension, state: s.state, reason: s.reason, stateChangedAt: new Date(s.changedAt).toISOString() });
          }
        }
        const state: AlarmState = counts.ALARM ? 'ALARM' : counts.INSUFFICIENT_DATA ? 'INSUFFICIENT_DATA' : 'OK';
        return { name: a.name, ...(a.spec.description ? { description: a.spec.description } : {}), metric: a.spec.metric, per: a.per, state, counts, series };
      });
    },
    blocked() {
      const now = clock.now();
      return [...blocks]
        .filter(([, b]) => b.until > now)
        .map(([sourceIp, b]) => ({ sourceIp, until: new Date(b.until).toISOString(), alarm: b.alarm }));
    },
    unblock(sourceIp) {
      const had = blocks.delete(sourceIp);
      metrics?.blocks.set(blocks.size);
      return had;
    },
    async idle() {
      while (work.size) await Promise.all([...work]);
      await notifier.idle();
      while (work.size) await Promise.all([...work]);
    },
    async close() {
      clearInterval(timer);
      await this.idle();
    },
  };

  function registerMetrics(registry: Registry) {
    new Gauge({
      name: 'portcullis_alarm_series',
      help: 'Alarm series by alarm and state (per-key and per-address alarms count only the series they track).',
      labelNames: ['alarm', 'state'],
      registers: [registry],
      collect() {
        this.reset();
        for (const a of alarms) {
          const counts: Record<AlarmState, number> = { OK: 0, ALARM: 0, INSUFFICIENT_DATA: 0 };
          for (const s of a.series.values()) counts[s.state]++;
          for (const [state, n] of Object.entries(counts)) this.set({ alarm: a.name, state }, n);
        }
      },
    });
    return {
      notifications: new Counter({
        name: 'portcullis_alarm_notifications_total',
        help: 'Alarm webhook notifications by webhook and result (delivered, failed after retries, dropped).',
        labelNames: ['webhook', 'result'],
        registers: [registry],
      }),
      blocks: new Gauge({ name: 'portcullis_blocked_sources', help: 'Source addresses currently blocked by an alarm.', registers: [registry] }),
      blockedRequests: new Counter({
        name: 'portcullis_blocked_requests_total',
        help: 'Requests refused 403 WAF_FILTERED because their source address was blocked by an alarm.',
        registers: [registry],
      }),
    };
  }
}

function dimensionName(per: CompiledAlarm['per']): string {
  return per === 'api' ? 'ApiName' : per === 'apiKey' ? 'ApiKeyId' : per === 'sourceIp' ? 'SourceIp' : 'Gateway';
}

/** The credential a refused request presented, as a short SHA-256 prefix: distinct credentials can be counted, none read. */
function credentialHash(ctx: RequestContext): string {
  const h = ctx.req.headers;
  const value = h['x-api-key'] ?? h.authorization;
  const v = Array.isArray(value) ? value.join(',') : value;
  return v ? createHash('sha256').update(v).digest('hex').slice(0, 16) : '';
}

function unknownKey(ctx: RequestContext): string {
  const v = ctx.req.headers['x-api-key'];
  if (typeof v !== 'string' || v === '') return '';
  return `unknown:${createHash('sha256').update(v).digest('hex').slice(0, 12)}`;
}

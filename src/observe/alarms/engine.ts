// The alarm engine: CloudWatch alarm semantics over in-process per-period aggregates. Each alarm keeps one
// series per dimension value (gateway, API, API key or source address), closes a datapoint per period on the
// injected clock, decides it against a static threshold or a baseline learned online (EWMA mean and variance),
// and moves the series between OK, ALARM and INSUFFICIENT_DATA after `datapointsToAlarm` of `evaluationPeriods`.
import type { AlarmDefinition, AlarmDimension, AlarmMetric } from './schema.ts';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** One finished request, reduced to what alarms read (computed once per request by the monitor). */
export interface RequestSignal {
  readonly api: string;
  readonly sourceIp: string;
  /** The API key id, `unknown:<hash prefix>` for a refused unknown key, or '' when none was presented. */
  readonly apiKey: string;
  readonly status: number;
  readonly authFailure: boolean;
  /** SHA-256 prefix of the credential a failed request presented ('' otherwise): never the credential. */
  readonly credential: string;
  readonly latency: number;
  readonly integrationLatency: number;
}

export interface StateChange {
  readonly alarm: CompiledAlarm;
  /** The dimension value ('' for per: gateway). */
  readonly dimension: string;
  readonly oldState: AlarmState;
  readonly newState: AlarmState;
  readonly reason: string;
  readonly reasonData: { readonly datapoints: ReadonlyArray<number | null>; readonly threshold?: number; readonly band?: readonly [number, number] };
  readonly time: number;
}

/** A datapoint's verdict: Breaching, Ok, Missing, or Untrained (the anomaly baseline is still learning). */
type Verdict = 'B' | 'O' | 'M' | 'U';

interface Baseline {
  n: number;
  mean: number;
  variance: number;
  m2: number;
}

export interface Series {
  readonly dimension: string;
  state: AlarmState;
  reason: string;
  changedAt: number;
  openPeriod: number;
  num: number;
  den: number;
  distinct: Set<string> | undefined;
  readonly verdicts: Verdict[];
  readonly values: Array<number | null>;
  readonly baseline: Baseline;
  lastBand?: readonly [number, number];
}

type Kind = 'count' | 'ratio' | 'distinct';

const KIND: Readonly<Record<AlarmMetric, Kind>> = {
  Count: 'count',
  '4XXError': 'count',
  '5XXError': 'count',
  ThrottleCount: 'count',
  AuthFailures: 'count',
  '4XXErrorRate': 'ratio',
  '5XXErrorRate': 'ratio',
  Latency: 'ratio',
  IntegrationLatency: 'ratio',
  DistinctSourceIps: 'distinct',
  DistinctFailedSourceIps: 'distinct',
  DistinctFailedCredentials: 'distinct',
};

const MIN_WIDTH: Readonly<Record<AlarmMetric, number>> = {
  Count: 1,
  '4XXError': 1,
  '5XXError': 1,
  ThrottleCount: 1,
  AuthFailures: 1,
  '4XXErrorRate': 0.05,
  '5XXErrorRate': 0.05,
  Latency: 5,
  IntegrationLatency: 5,
  DistinctSourceIps: 1,
  DistinctFailedSourceIps: 1,
  DistinctFailedCredentials: 1,
};

/** A distinct-count set stops growing here: the value is then a floor, which only makes breaching likelier. */
const MAX_DISTINCT = 10_000;

const COMPARE = {
  GreaterThanOrEqualToThreshold: (v: number, t: number) => v >= t,
  GreaterThanThreshold: (v: number, t: number) => v > t,
  LessThanThreshold: (v: number, t: number) => v < t,
  LessThanOrEqualToThreshold: (v: number, t: number) => v <= t,
} as const;

const COMPARE_TEXT = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
} as const;

export interface CompiledAlarm {
  readonly spec: AlarmDefinition;
  readonly name: string;
  readonly per: AlarmDimension;
  readonly periodMs: number;
  readonly datapointsToAlarm: number;
  readonly series: Map<string, Series>;
  /** Observations dropped because maxSeriesPerAlarm series were tracked and none could be evicted. */
  droppedSeries: number;
  observe(signal: RequestSignal, now: number): void;
  /** Closes finished periods and applies state changes (the evaluation timer and tests call it). */
  evaluate(now: number): void;
}

export interface AlarmEngineOptions {
  readonly maxSeries: number;
  readonly onStateChange: (change: StateChange) => void;
  /** Dimension values that exist before traffic (the API names for per: api). */
  readonly apis: readonly string[];
}

export function compileAlarm(spec: AlarmDefinition, now: number, options: AlarmEngineOptions): CompiledAlarm {
  const kind = KIND[spec.metric];
  const periodMs = spec.periodSeconds * 1000;
  const E = spec.evaluationPeriods;
  const M = spec.datapointsToAlarm ?? E;
  const band = spec.anomalyBand;
  const minWidth = band?.minWidth ?? MIN_WIDTH[spec.metric];
  const missing = spec.treatMissingData ?? 'notBreaching';
  // Per-key and per-address series start OK (no traffic is not a problem); the gateway and API series start as
  // CloudWatch alarms do, INSUFFICIENT_DATA until their first evaluation.
  const aggregate = spec.per === 'gateway' || spec.per === 'api';
  const series = new Map<string, Series>();
  const period = (t: number) => Math.floor(t / periodMs);

  const newSeries = (dimension: string, t: number): Series => ({
    dimension,
    state: aggregate ? 'INSUFFICIENT_DATA' : 'OK',
    reason: aggregate ? 'Unchecked: Initial alarm creation' : '',
    changedAt: t,
    openPeriod: period(t),
    num: 0,
    den: 0,
    distinct: kind === 'distinct' ? new Set() : undefined,
    verdicts: [],
    values: [],
    baseline: { n: 0, mean: 0, variance: 0, m2: 0 },
  });

  const alarm: CompiledAlarm = {
    spec,
    name: spec.name,
    per: spec.per,
    periodMs,
    datapointsToAlarm: M,
    series,
    droppedSeries: 0,
    observe(s, t) {
      if (spec.api !== undefined && s.api !== spec.api) return;
      const dimension = dimensionOf(spec.per, s);
      if (dimension === undefined) return;
      let num = 0;
      let den = 0;
      let item: string | undefined;
      switch (spec.metric) {
        case 'Count': num = 1; break;
        case '4XXError': num = s.status >= 400 && s.status < 500 ? 1 : 0; break;
        case '5XXError': num = s.status >= 500 ? 1 : 0; break;
        case 'ThrottleCount': num = s.status === 429 ? 1 : 0; break;
        case 'AuthFailures': num = s.authFailure ? 1 : 0; break;
        case '4XXErrorRate': num = s.status >= 400 && s.status < 500 ? 1 : 0; den = 1; break;
        case '5XXErrorRate': num = s.status >= 500 ? 1 : 0; den = 1; break;
        case 'Latency': if (s.latency >= 0) { num = s.latency; den = 1; } break;
        case 'IntegrationLatency': if (s.integrationLatency >= 0) { num = s.integrationLatency; den = 1; } break;
        case 'DistinctSourceIps': item = s.sourceIp; break;
        case 'DistinctFailedSourceIps': item = s.authFailure ? s.sourceIp : undefined; break;
        case 'DistinctFailedCredentials': item = s.authFailure && s.credential ? s.credential : undefined; break;
      }
      if (num === 0 && den === 0 && !item) return;
      let x = series.get(dimension);
      if (!x) {
        if (series.size >= options.maxSeries && !evictOne()) {
          alarm.droppedSeries++;
          return;
        }
        series.set(dimension, (x = newSeries(dimension, t)));
      }
      const p = period(t);
      if (p > x.openPeriod) roll(x, p, t);
      x.num += num;
      x.den += den;
      if (item !== undefined && x.distinct!.size < MAX_DISTINCT) x.distinct!.add(item);
    },
    evaluate(t) {
      const p = period(t);
      for (const x of series.values()) {
        if (p > x.openPeriod) roll(x, p, t);
        // A quiet key or address that is OK again and has only quiet datapoints left is forgotten (bounded memory).
        if (!aggregate && x.state === 'OK' && x.verdicts.length >= E && x.values.every((v) => v === null || v === 0)) {
          series.delete(x.dimension);
        }
      }
    },
  };

  if (spec.per === 'gateway') series.set('', newSeries('', now));
  if (spec.per === 'api') for (const api of options.apis) if (spec.api === undefined || spec.api === api) series.set(api, newSeries(api, now));

  function evictOne(): boolean {
    for (const x of series.values()) {
      if (x.state === 'OK') {
        series.delete(x.dimension);
        return true;
      }
    }
    return false;
  }

  /** Closes the open period and the empty ones after it (at most E matter), then re-evaluates the state. */
  function roll(x: Series, p: number, t: number): void {
    push(x, valueOf(x));
    const empty = Math.min(p - x.openPeriod - 1, E);
    for (let i = 0; i < empty; i++) push(x, kind === 'ratio' ? null : 0);
    x.openPeriod = p;
    x.num = 0;
    x.den = 0;
    x.distinct?.clear();
    applyState(x, t);
  }

  function valueOf(x: Series): number | null {
    if (kind === 'count') return x.num;
    if (kind === 'distinct') return x.distinct!.size;
    return x.den > 0 ? x.num / x.den : null;
  }

  function push(x: Series, v: number | null): void {
    x.values.push(v);
    x.verdicts.push(decide(x, v));
    if (x.values.length > E) {
      x.values.shift();
      x.verdicts.shift();
    }
  }

  function decide(x: Series, v: number | null): Verdict {
    if (v === null) return 'M';
    if (!band) return COMPARE[spec.comparison](v, spec.threshold!) ? 'B' : 'O';
    const b = x.baseline;
    if (b.n < band.trainingPeriods) {
      learn(b, v, 1, band.trainingPeriods);
      return 'U';
    }
    const half = Math.max(band.width * Math.sqrt(b.variance), minWidth);
    const lo = b.mean - half;
    const hi = b.mean + half;
    x.lastBand = [round(lo), round(hi)];
    const breach = v > hi || (band.direction === 'both' && v < lo);
    // A breaching datapoint is learned at a quarter weight: an attack should not teach the baseline quickly,
    // but a lasting change of level becomes the new normal in time.
    learn(b, v, breach ? 0.25 : 1, band.trainingPeriods);
    return breach ? 'B' : 'O';
  }

  function applyState(x: Series, t: number): void {
    let breaches = 0;
    let present = 0;
    for (const v of x.verdicts) {
      if (v === 'B') breaches++;
      if (v === 'B' || v === 'O') present++;
      if (v === 'M') {
        if (missing === 'breaching') (breaches++, present++);
        else if (missing === 'notBreaching') present++;
      }
    }
    let next: AlarmState;
    if (breaches >= M) next = 'ALARM';
    else if (present > 0) next = 'OK';
    else if (missing === 'ignore' || !aggregate) next = x.state === 'ALARM' && !aggregate ? 'OK' : x.state;
    else next = 'INSUFFICIENT_DATA';
    if (next === x.state) return;
    const old = x.state;
    const reason = reasonText(next, x, breaches, present);
    x.state = next;
    x.reason = reason;
    x.changedAt = t;
    options.onStateChange({
      alarm,
      dimension: x.dimension,
      oldState: old,
      newState: next,
      reason,
      reasonData: {
        datapoints: [...x.values],
        ...(spec.threshold !== undefined ? { threshold: spec.threshold } : {}),
        ...(x.lastBand ? { band: x.lastBand } : {}),
      },
      time: t,
    });
  }

  function reasonText(next: AlarmState, x: Series, breaches: number, present: number): string {
    const points = x.values.map((v) => (v === null ? 'missing' : String(round(v)))).join(', ');
    if (next === 'INSUFFICIENT_DATA') {
      return band && x.baseline.n < band.trainingPeriods
        ? `Insufficient Data: the anomaly baseline has ${x.baseline.n} of ${band.trainingPeriods} training datapoints`
        : `Insufficient Data: ${x.values.length} datapoints were unknown.`;
    }
    const what = band
      ? `outside the band (${x.lastBand?.join(' to ') ?? 'untrained'})`
      : `${COMPARE_TEXT[spec.comparison]} the threshold (${spec.threshold})`;
    const n = next === 'ALARM' ? breaches : present - breaches;
    return `Threshold Crossed: ${n} out of the last ${x.values.length} datapoints [${points}] ${next === 'ALARM' ? 'were' : 'were not'} ${what} (minimum ${M} datapoints for OK -> ALARM transition).`;
  }

  return alarm;
}

function dimensionOf(per: AlarmDimension, s: RequestSignal): string | undefined {
  switch (per) {
    case 'gateway': return '';
    case 'api': return s.api || undefined;
    case 'apiKey': return s.apiKey || undefined;
    case 'sourceIp': return s.sourceIp || undefined;
  }
}

function learn(b: Baseline, v: number, weight: number, training: number): void {
  if (b.n < training) {
    // Welford's algorithm while training: the exact mean and sample variance of the first datapoints.
    b.n++;
    const delta = v - b.mean;
    b.mean += delta / b.n;
    b.m2 += delta * (v - b.mean);
    b.variance = b.n > 1 ? b.m2 / (b.n - 1) : 0;
    return;
  }
  // Then an exponentially weighted mean and variance with a memory of about `training` periods.
  const a = weight / training;
  const diff = v - b.mean;
  b.mean += a * diff;
  b.variance = (1 - a) * (b.variance + a * diff * diff);
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

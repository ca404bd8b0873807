// The alarm engine on simulated time: static thresholds with M of N datapoints, missing data, learned anomaly
// bands (a spike is flagged, ordinary variation is not), the built-in rules, bounded series, and the schema.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileAlarm, type RequestSignal, type StateChange } from './engine.ts';
import { AlarmSchema, MonitoringSchema } from './schema.ts';
import { alarmsOf } from './rules.ts';
import { DefinitionSchema } from '../../config/schema.ts';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const base: RequestSignal = { api: 'pets', sourceIp: '10.0.0.1', apiKey: '', status: 200, authFailure: false, credential: '', latency: 5, integrationLatency: 3 };

function harness(spec: Record<string, unknown>, maxSeries = 100) {
  const changes: StateChange[] = [];
  const alarm = compileAlarm(AlarmSchema.parse(spec), T0, { maxSeries, apis: ['pets'], onStateChange: (c) => changes.push(c) });
  let now = T0;
  return {
    alarm,
    changes,
    states: () => changes.map((c) => `${c.dimension ? c.dimension + ' ' : ''}${c.oldState}->${c.newState}`),
    send(n: number, signal: Partial<RequestSignal> = {}) {
      for (let i = 0; i < n; i++) alarm.observe({ ...base, ...signal }, now);
    },
    tick(ms = MIN) {
      now += ms;
      alarm.evaluate(now);
    },
  };
}

test('static threshold: ALARM needs datapointsToAlarm of evaluationPeriods breaching datapoints, then back to OK', () => {
  const h = harness({ name: 'errors', metric: '5XXError', threshold: 3, evaluationPeriods: 3, datapointsToAlarm: 2 });
  h.send(5, { status: 502 });
  h.tick();
  assert.deepEqual(h.states(), ['INSUFFICIENT_DATA->OK'], 'one breaching datapoint of the required two');
  h.send(1, { status: 502 });
  h.tick();
  assert.deepEqual(h.states(), ['INSUFFICIENT_DATA->OK']);
  h.send(4, { status: 503 });
  h.tick();
  assert.deepEqual(h.states(), ['INSUFFICIENT_DATA->OK', 'OK->ALARM']);
  assert.match(h.changes[1]!.reason, /2 out of the last 3 datapoints \[5, 1, 4\] were greater than or equal to the threshold \(3\)/);
  h.tick();
  assert.deepEqual(h.states().slice(2), ['ALARM->OK'], '[1, 4, 0] holds one breaching datapoint');
});

test('ratios have no datapoint without requests: missing data follows treatMissingData', () => {
  const missing = harness({ name: 'r', metric: '5XXErrorRate', threshold: 0.5, treatMissingData: 'missing' });
  missing.tick();
  assert.deepEqual(missing.states(), [], 'INSUFFICIENT_DATA stays (no change) without requests');
  missing.send(1, { status: 500 });
  missing.send(1);
  missing.tick();
  assert.deepEqual(missing.states(), ['INSUFFICIENT_DATA->ALARM']);
  missing.tick();
  assert.deepEqual(missing.states(), ['INSUFFICIENT_DATA->ALARM', 'ALARM->INSUFFICIENT_DATA']);

  const breaching = harness({ name: 'r', metric: '5XXErrorRate', threshold: 0.5, treatMissingData: 'breaching' });
  breaching.tick();
  assert.deepEqual(breaching.states(), ['INSUFFICIENT_DATA->ALARM']);
  const ignore = harness({ name: 'r', metric: 'Latency', threshold: 100, treatMissingData: 'ignore' });
  ignore.send(2, { latency: 150 });
  ignore.tick();
  ignore.tick();
  assert.deepEqual(ignore.states(), ['INSUFFICIENT_DATA->ALARM'], 'ignore keeps the state through empty periods');
});

test('anomaly band: learns the baseline, flags a spike, not ordinary variation, and OK again afterwards', () => {
  const h = harness({ name: 'rate', metric: 'Count', per: 'api', anomalyBand: { width: 3, trainingPeriods: 10 } });
  const normal = [100, 104, 97, 101, 99, 103, 96, 100, 102, 98, 101, 105, 95, 100, 99];
  for (const n of normal) {
    h.send(n);
    h.tick();
  }
  assert.deepEqual(h.states(), ['pets INSUFFICIENT_DATA->OK'], 'untrained first, then OK for ordinary variation');
  assert.match(h.changes[0]!.reason, /outside the band|Threshold/);
  h.send(400);
  h.tick();
  assert.deepEqual(h.states().slice(1), ['pets OK->ALARM']);
  const band = h.changes[1]!.reasonData.band!;
  assert.ok(band[1] > 100 && band[1] < 130, `upper bound near the baseline: ${band}`);
  h.send(101);
  h.tick();
  assert.deepEqual(h.states().slice(1), ['pets OK->ALARM', 'pets ALARM->OK']);
});

test('anomaly band per key: every key has its own baseline', () => {
  const h = harness({ name: 'spread', metric: 'DistinctSourceIps', per: 'apiKey', anomalyBand: { width: 3, trainingPeriods: 5, minWidth: 2 } });
  for (let p = 0; p < 8; p++) {
    for (let i = 0; i < 2; i++) h.send(1, { apiKey: 'small', sourceIp: `10.0.0.${i}` });
    for (let i = 0; i < 50; i++) h.send(1, { apiKey: 'big', sourceIp: `10.1.0.${i}` });
    h.tick();
  }
  assert.deepEqual(h.states(), []);
  for (let i = 0; i < 20; i++) h.send(1, { apiKey: 'small', sourceIp: `10.2.0.${i}` });
  for (let i = 0; i < 50; i++) h.send(1, { apiKey: 'big', sourceIp: `10.1.0.${i}` });
  h.tick();
  assert.deepEqual(h.states(), ['small OK->ALARM'], '20 addresses are unusual for one key and normal for the other');
});

test('rules catch credential stuffing, key enumeration and one key attacked from many addresses', () => {
  const monitoring = MonitoringSchema.parse({ rules: { keySpread: false, errorSpike: false, latencySpike: false } });
  const changes: string[] = [];
  const alarms = alarmsOf(monitoring).map((spec) =>
    compileAlarm(spec, T0, { maxSeries: 100, apis: ['pets'], onStateChange: (c) => changes.push(`${c.alarm.name} ${c.dimension} ${c.newState}`) }),
  );
  const feed = (s: Partial<RequestSignal>) => alarms.forEach((a) => a.observe({ ...base, ...s }, T0 + 1));
  for (let i = 0; i < 25; i++) feed({ sourceIp: '198.51.100.5', authFailure: true, status: 401, credential: 'same' });
  for (let i = 0; i < 12; i++) feed({ sourceIp: '198.51.100.6', authFailure: true, status: 403, credential: `c${i}`, apiKey: `unknown:${i}` });
  for (let i = 0; i < 12; i++) feed({ sourceIp: `203.0.113.${i}`, authFailure: true, status: 403, credential: 'k', apiKey: 'key-1' });
  for (let i = 0; i < 30; i++) feed({ sourceIp: '192.0.2.1', apiKey: 'key-2' });
  alarms.forEach((a) => a.evaluate(T0 + MIN));
  assert.deepEqual(changes.sort(), [
    'rule-credentialStuffing 198.51.100.5 ALARM',
    'rule-distributedKeyAttack key-1 ALARM',
    'rule-keyEnumeration 198.51.100.6 ALARM',
  ]);
});

test('per-key series are bounded: quiet OK series are evicted, observations past the bound are counted', () => {
  const h = harness({ name: 'f', metric: 'AuthFailures', per: 'sourceIp', threshold: 1 }, 10);
  for (let i = 0; i < 10; i++) h.send(1, { sourceIp: `10.0.0.${i}`, authFailure: true });
  h.send(1, { sourceIp: '10.9.9.9', authFailure: true });
  assert.equal(h.alarm.series.size, 10);
  assert.equal(h.alarm.series.has('10.9.9.9'), true, 'an OK series made room');
  h.tick();
  assert.equal(h.changes.length, 10);
  h.send(1, { sourceIp: '10.8.8.8', authFailure: true });
  assert.equal(h.alarm.droppedSeries, 1, 'every tracked series is in ALARM: the new one is dropped, not the alarms');
  h.tick();
  h.tick();
  assert.equal(h.alarm.series.size, 0, 'quiet series are forgotten once OK');
});

test('the schema names the path of every mistake', () => {
  const problems = (monitoring: unknown) => {
    const r = DefinitionSchema.safeParse({ apis: [], monitoring });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  assert.deepEqual(problems({ alarms: [{ name: 'a', metric: 'Count' }] }), ['monitoring.alarms.0.threshold: an alarm needs exactly one of threshold and anomalyBand']);
  assert.deepEqual(problems({ alarms: [{ name: 'a', metric: 'Count', threshold: 1, notify: ['pager'] }] }), [
    'monitoring.alarms.0.notify.0: unknown webhook "pager" (define it under monitoring.webhooks)',
  ]);
  assert.deepEqual(problems({ alarms: [{ name: 'a', metric: 'Count', threshold: 1, actions: { blockSourceIp: { seconds: 60 } } }] }), [
    'monitoring.alarms.0.actions.blockSourceIp: blockSourceIp needs per: sourceIp',
  ]);
  assert.deepEqual(problems({ rules: { errorSpike: { actions: { disableApiKey: true } } } }), [
    'monitoring.rules.errorSpike.actions.disableApiKey: the errorSpike rule is not about one API key',
  ]);
  assert.deepEqual(problems({ webhooks: { w: { url: 'http://x', secret: 'inline' } } }).length, 1, 'secrets cannot be written into the definition');
  assert.deepEqual(problems({}), []);
});

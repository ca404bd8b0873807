// The usage-plan part of the throttle phase with a fake clock: report-only plans count and report without
// refusing; enforcing plans refuse with Retry-After and the IETF RateLimit headers; a plan with a throttle and
// a quota costs ONE counter call per request; a quota the store cannot answer fails by the store's mode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock } from '../../../core/clock.ts';
import type { Denial } from '../../../core/denial.ts';
import { DefinitionSchema } from '../../../config/schema.ts';
import { createMemoryCounters } from '../../../store/counters/memory-counters.ts';
import { failBucketDecision, failQuotaDecision, usageRecordId, type CounterStore, type FailMode } from '../../../store/counters/ports.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import { USAGE_EXTENSION, plansForRoute, type UsageIdentity } from '../api-key/schema.ts';
import { throttleStage, type ThrottleDeps } from './stage.ts';

const START = Date.UTC(2026, 10, 24, 12);
/** A plan `p` (throttle 1/1, quota 2 a day unless `extra` says otherwise) on pets/prod, with the stage's settings and the definition's. */
const plan = (extra: Record<string, unknown>, stage: Record<string, unknown> = {}, settings: Record<string, unknown> = {}) =>
  DefinitionSchema.parse({
    settings,
    apis: [{ name: 'pets', id: 'abcdef0123', stages: { prod: stage }, routes: [{ method: 'GET', path: '/pets', apiKeyRequired: true, integration: { type: 'mock' } }] }],
    usagePlans: [{ name: 'p', apiStages: [{ api: 'pets', stage: 'prod' }], throttle: { rateLimit: 1, burstLimit: 1 }, quota: { limit: 2, period: 'DAY' }, ...extra }],
  });

function harness(extra: Record<string, unknown>, counters: CounterStore = createMemoryCounters(), def = plan(extra)) {
  const clock = createFakeClock(START);
  const reports: string[] = [];
  const counted: number[] = [];
  const deps: ThrottleDeps = { counters, clock, onReportOnly: (m) => reports.push(m), usage: { count: (_u, now) => counted.push(now) } };
  const api = def.apis[0];
  const fn = throttleStage.create({ api, apiId: 'abcdef0123', stageName: 'prod', stage: api.stages.prod, route: api.routes[0], definition: def, deps })!;
  const routePlan = plansForRoute(def, 'pets', 'abcdef0123', 'prod', 'GET', '/pets').get('p')!;
  const usage: UsageIdentity = { plan: routePlan, keyId: 'key1', subscribedAtMs: START - 86_400_000, usageRecord: usageRecordId('p', 'key1'), specs: new WeakMap() };
  const call = async () => {
    const gatewayHeaders: string[] = [];
    const ctx = {
      extensions: { [USAGE_EXTENSION]: usage },
      identity: { apiKey: 'abc123def456' },
      res: { headersSent: false },
      gatewayHeaders,
    } as unknown as RequestContext;
    const r = await fn(ctx);
    const headers: Record<string, string> = {};
    for (let i = 0; i < gatewayHeaders.length; i += 2) headers[gatewayHeaders[i]] = gatewayHeaders[i + 1];
    return { denial: r as Denial | undefined, headers };
  };
  return { clock, reports, counted, call };
}

test('report-only: nothing refused; throttle and quota hits reported; every request counted', async () => {
  const h = harness({ reportOnly: true });
  for (let i = 0; i < 4; i++) assert.equal((await h.call()).denial, undefined);
  assert.equal(h.counted.length, 4);
  assert.equal(h.reports.filter((m) => m.startsWith('report-only: Key throttle limit exceeded for Usage Plan ID p')).length, 3);
  assert.equal(h.reports.filter((m) => /^report-only: API Key abc123def456 exceeded quota limit .* Usage Plan ID p\. Limit: 2 Period: DAY$/.test(m)).length, 2);
});

test('enforcing: 429 THROTTLED then QUOTA_EXCEEDED, each with Retry-After and RateLimit headers', async () => {
  const h = harness({});
  const ok = await h.call();
  assert.equal(ok.denial, undefined);
  assert.equal(ok.headers['RateLimit-Policy'], '"burst";q=1;w=1, "quota";q=2;w=86400');
  assert.equal(ok.headers.RateLimit, '"burst";r=0;t=1, "quota";r=1;t=43200');
  const t = await h.call();
  assert.equal(t.denial?.type, 'THROTTLED');
  assert.equal(t.denial?.headers?.['Retry-After'], '1');
  assert.match(String(t.denial?.headers?.RateLimit), /^"burst";r=0;t=1$/);
  h.clock.advance(1_000);
  assert.equal((await h.call()).denial, undefined);
  h.clock.advance(1_000);
  const q = await h.call();
  assert.equal(q.denial?.type, 'QUOTA_EXCEEDED');
  assert.equal(q.denial?.headers?.['Retry-After'], String(43_200 - 2));
  assert.match(String(q.denial?.headers?.RateLimit), /"quota";r=0;t=43198/);
  assert.equal(h.counted.length, 2, 'only accepted requests are counted');
  assert.deepEqual(h.reports, []);
});

test('rateLimitHeaders false: no RateLimit fields, Retry-After still on the 429', async () => {
  const h = harness({ rateLimitHeaders: false });
  assert.deepEqual((await h.call()).headers, {});
  const t = await h.call();
  assert.deepEqual(t.denial?.headers, { 'Retry-After': '1' });
});

test('a plan with throttle and quota costs one counter call per request', async () => {
  const memory = createMemoryCounters();
  let calls = 0;
  const counting: CounterStore = {
    ...memory,
    kind: 'memory',
    takeBuckets: (s, n) => (calls++, memory.takeBuckets(s, n)),
    consumeQuota: (k, l, e, n) => (calls++, memory.consumeQuota(k, l, e, n)),
    takeBucketsAndQuota: (s, q, n) => (calls++, memory.takeBucketsAndQuota(s, q, n)),
    getQuota: (k, n) => memory.getQuota(k, n),
    setQuota: (k, u, e, n) => memory.setQuota(k, u, e, n),
    health: () => memory.health(),
    close: () => memory.close(),
  };
  const h = harness({}, counting);
  await h.call();
  assert.equal(calls, 1);
});

test('a quota the store cannot answer, failing closed: 429 Limit Exceeded with Retry-After 1 and a store detail', async () => {
  const memory = createMemoryCounters();
  const closed: CounterStore = {
    kind: 'redis',
    countsUsage: false,
    takeBuckets: (s, n) => memory.takeBuckets(s, n),
    consumeQuota: (_k, l) => failQuotaDecision('closed', l),
    takeBucketsAndQuota: (s, q, n) => {
      const buckets = memory.takeBuckets(s, n);
      return { buckets, quota: buckets.allowed ? failQuotaDecision('closed', q.limit) : undefined };
    },
    getQuota: async () => 0,
    setQuota: async () => {},
    health: () => ({ ok: false, since: 0, lastError: 'down' }),
    close: async () => {},
  };
  const d = (await harness({}, closed).call()).denial;
  assert.equal(d?.type, 'QUOTA_EXCEEDED');
  assert.deepEqual(d?.headers, { 'Retry-After': '1' });
  assert.equal(d?.detail, 'quota: counter store unavailable, failing closed');
  // Open: the request passes.
  const fresh = createMemoryCounters();
  const open: CounterStore = { ...closed, takeBucketsAndQuota: (s, q, n) => ({ buckets: fresh.takeBuckets(s, n), quota: failQuotaDecision('open', q.limit) }) };
  assert.equal((await harness({}, open).call()).denial, undefined);
});

test('a plan\'s own quota failMode overrides the node\'s while the store cannot be asked', async () => {
  const failing = (mode: 'open' | 'closed'): CounterStore => {
    const memory = createMemoryCounters();
    return {
      kind: 'redis',
      countsUsage: false,
      takeBuckets: (s, n) => memory.takeBuckets(s, n),
      consumeQuota: (_k, l) => failQuotaDecision(mode, l),
      takeBucketsAndQuota: (s, q, n) => {
        const buckets = memory.takeBuckets(s, n);
        return { buckets, quota: buckets.allowed ? failQuotaDecision(mode, q.limit) : undefined };
      },
      getQuota: async () => 0,
      setQuota: async () => {},
      health: () => ({ ok: false, since: 0, lastError: 'down' }),
      close: async () => {},
    };
  };
  const strict = { quota: { limit: 2, period: 'DAY', failMode: 'closed' } };
  const lenient = { quota: { limit: 2, period: 'DAY', failMode: 'open' } };
  const refused = (await harness(strict, failing('open')).call()).denial;
  assert.equal(refused?.type, 'QUOTA_EXCEEDED', 'the node fails open, this plan closed');
  assert.equal(refused?.detail, 'quota: counter store unavailable, failing closed');
  assert.equal((await harness(lenient, failing('closed')).call()).denial, undefined, 'the node fails closed, this plan open');
  assert.equal((await harness({}, failing('open')).call()).denial, undefined, 'no plan setting: the node decides');
});

/** Memory counters posing as a store that counts usage with its decisions (as Redis does): notes each tally it counts. */
function tallyingStore(fail?: FailMode) {
  const memory = createMemoryCounters();
  const tallies: string[] = [];
  const note = <T>(usage: string | undefined, allowed: boolean, d: T): T => {
    if (usage && allowed) tallies.push(usage);
    return d;
  };
  const store: CounterStore = {
    kind: 'redis',
    countsUsage: true,
    takeBuckets: (s, n, u) => (fail ? failBucketDecision(fail) : ((d) => note(u, d.allowed, d))(memory.takeBuckets(s, n))),
    consumeQuota: (k, l, e, n, u) => (fail ? failQuotaDecision(fail, l) : ((d) => note(u, d.allowed, d))(memory.consumeQuota(k, l, e, n))),
    takeBucketsAndQuota: (s, q, n, u) => {
      if (fail) return { buckets: failBucketDecision(fail), quota: failQuotaDecision(fail, q.limit) };
      const d = memory.takeBucketsAndQuota(s, q, n);
      return note(u, d.quota?.allowed === true, d);
    },
    getQuota: (k, n) => memory.getQuota(k, n),
    setQuota: (k, u, e, n) => memory.setQuota(k, u, e, n),
    health: () => memory.health(),
    close: () => memory.close(),
  };
  return { store, tallies };
}

test('a store that counts usage with its decisions: the recorder counts only what the store did not (degraded, report-only refusals)', async () => {
  // Enforcing: the two accepted requests were counted by the store; the refused third by nobody.
  const enforcing = tallyingStore();
  const h = harness({ throttle: undefined }, enforcing.store);
  assert.equal((await h.call()).denial, undefined);
  assert.equal((await h.call()).denial, undefined);
  assert.equal((await h.call()).denial?.type, 'QUOTA_EXCEEDED');
  assert.deepEqual(enforcing.tallies, ['p\nkey1', 'p\nkey1']);
  assert.deepEqual(h.counted, []);

  // Report-only over a quota of 2: four accepted, two counted by the store (within the quota), two by the recorder.
  const reportOnly = tallyingStore();
  const r = harness({ reportOnly: true }, reportOnly.store);
  for (let i = 0; i < 4; i++) assert.equal((await r.call()).denial, undefined);
  assert.equal(reportOnly.tallies.length, 2);
  assert.equal(r.counted.length, 2);

  // A plan without a quota: the bucket decision carries the tally.
  const noQuota = tallyingStore();
  const n = harness({ quota: undefined, throttle: { rateLimit: 10, burstLimit: 10 } }, noQuota.store);
  assert.equal((await n.call()).denial, undefined);
  assert.deepEqual([noQuota.tallies.length, n.counted.length], [1, 0]);

  // The store cannot be asked and fails open: nothing was counted there, the recorder counts.
  const down = tallyingStore('open');
  const d = harness({}, down.store);
  assert.equal((await d.call()).denial, undefined);
  assert.deepEqual([down.tallies.length, d.counted.length], [0, 1]);
});

test('AWS\'s layers with a key: a request refused by the stage or the account bucket keeps the plan\'s token', async () => {
  // Plan: 2 tokens that never refill. Stage (then account): 1 token a second.
  const limits = { throttle: { rateLimit: 0, burstLimit: 2 }, quota: undefined };
  for (const [layer, stage, settings] of [
    ['stage', { throttle: { rateLimit: 1, burstLimit: 1 } }, {}],
    ['account', {}, { accountThrottle: { rateLimit: 1, burstLimit: 1 } }],
  ] as const) {
    const h = harness(limits, createMemoryCounters(), plan(limits, stage, settings));
    assert.equal((await h.call()).denial, undefined, `${layer}: first request`);
    const refused = (await h.call()).denial;
    assert.equal(refused?.type, 'THROTTLED', `${layer}: its bucket is empty`);
    assert.doesNotMatch(String(refused?.detail), /Key throttle limit/, `${layer}: refused by the ${layer} bucket, not the plan's`);
    h.clock.advance(1_000);
    assert.equal((await h.call()).denial, undefined, `${layer}: the plan's second token was kept for this request`);
    h.clock.advance(1_000);
    const planRefusal = (await h.call()).denial;
    assert.match(String(planRefusal?.detail), /^Key throttle limit exceeded for Usage Plan ID p/, `${layer}: now the plan is empty`);
    assert.equal(h.counted.length, 2, `${layer}: two accepted requests counted`);
  }
});

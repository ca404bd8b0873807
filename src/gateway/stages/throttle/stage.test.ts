// Tests of the throttle stage with a fake clock and the memory counters: which buckets apply to a route,
// stable keys, all-or-nothing refusals, Retry-After, and the answers of a broken store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock, type FakeClock } from '../../../core/clock.ts';
import type { Denial } from '../../../core/denial.ts';
import { DefinitionSchema, type Definition } from '../../../config/schema.ts';
import { createMemoryCounters } from '../../../store/counters/memory-counters.ts';
import type { BucketDecision, CounterStore } from '../../../store/counters/ports.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { StageFn, StageResult } from '../../pipeline/stage.ts';
import { ACCOUNT_THROTTLE_DEFAULT, AccountThrottleSchema } from './schema.ts';
import { throttleBuckets, throttleStage, type ThrottleDeps } from './stage.ts';

const API_ID = 'abcdef0123';
const ctx = {} as RequestContext;
const BIG = { rateLimit: 1_000, burstLimit: 1_000 };

function definition(stage: Record<string, unknown>, paths: Array<[string, string]> = [['GET', '/pets']]): Definition {
  return DefinitionSchema.parse({
    apis: [{
      name: 'pets',
      id: API_ID,
      stages: { prod: stage },
      routes: paths.map(([method, path]) => ({ method, path, integration: { type: 'mock' } })),
    }],
  });
}

interface Harness {
  clock: FakeClock;
  counters: CounterStore;
  deps: ThrottleDeps;
  /** The stage function of route i of the definition. */
  fn(def: Definition, i?: number): StageFn;
}

function harness(accountThrottle = BIG, counters: CounterStore = createMemoryCounters()): Harness {
  const clock = createFakeClock();
  const deps: ThrottleDeps = { counters, clock };
  // The account bucket comes from the definition's settings.accountThrottle.
  const withAccount = (def: Definition): Definition => ({ ...def, settings: { ...def.settings, accountThrottle } });
  return {
    clock,
    counters,
    deps,
    fn(def, i = 0) {
      const api = def.apis[0];
      const fn = throttleStage.create({
        api, apiId: API_ID, stageName: 'prod', stage: api.stages.prod, route: api.routes[i], definition: withAccount(def), deps,
      });
      assert.ok(fn, 'the throttle stage always applies (account bucket)');
      return fn;
    },
  };
}

function keysOf(h: Harness, def: Definition, i = 0): string[] {
  const api = def.apis[0];
  return throttleBuckets({
    api, apiId: API_ID, stageName: 'prod', stage: api.stages.prod, route: api.routes[i], definition: def, deps: h.deps,
  }).map((b) => b.spec.key);
}

/** Runs fn n times (synchronously: the memory store must not need awaiting) and counts passes. */
function passes(fn: StageFn, n: number): number {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const r = fn(ctx);
    assert.ok(!(r instanceof Promise), 'memory counters answer synchronously');
    if (r === undefined) ok++;
  }
  return ok;
}

function denial(r: StageResult | Promise<StageResult>): Denial {
  assert.ok(r !== undefined && !(r instanceof Promise), 'expected a synchronous denial');
  return r;
}

test('the stage is the throttle phase factory', () => {
  assert.equal(throttleStage.phase, 'throttle');
  assert.equal(throttleStage.name, 'throttle');
});

test('with no stage or route settings, only the account bucket applies', () => {
  const h = harness({ rateLimit: 1, burstLimit: 2 });
  const def = definition({});
  assert.deepEqual(keysOf(h, def), ['acct']);
  const fn = h.fn(def);
  assert.equal(passes(fn, 2), 2);
  const d = denial(fn(ctx));
  assert.equal(d.type, 'THROTTLED');
  assert.deepEqual(d.headers, { 'Retry-After': '1' });
  assert.match(d.detail ?? '', /^account throttle bucket acct \(rate 1\/s, burst 2\) is empty; retry in 1000 ms$/);
  h.clock.advance(1_000);
  assert.equal(passes(fn, 2), 1, 'one token back after a second');
});

test('the account bucket is shared by every route, stage and API', () => {
  const h = harness({ rateLimit: 0, burstLimit: 3 });
  const def = definition({}, [['GET', '/a'], ['POST', '/b'], ['ANY', '/c']]);
  const fns = [h.fn(def, 0), h.fn(def, 1), h.fn(def, 2)];
  assert.equal(fns.reduce((n, fn) => n + passes(fn, 1), 0), 3);
  assert.equal(fns.reduce((n, fn) => n + passes(fn, 1), 0), 0);
});

test('a route entry "/path/METHOD" applies to that route only, with a stable key', () => {
  const h = harness();
  const def = definition(
    { routeThrottles: { '/pets/GET': { rateLimit: 1, burstLimit: 2 } } },
    [['GET', '/pets'], ['POST', '/pets']],
  );
  assert.deepEqual(keysOf(h, def, 0), [`r:${API_ID}:prod:GET:/pets`, 'acct']);
  assert.deepEqual(keysOf(h, def, 1), ['acct']);
  assert.equal(passes(h.fn(def, 0), 5), 2);
  assert.equal(passes(h.fn(def, 1), 5), 5);
  const d = denial(h.fn(def, 0)(ctx));
  assert.match(d.detail ?? '', /^route throttle routeThrottles\["\/pets\/GET"\] bucket r:abcdef0123:prod:GET:\/pets/);
});

test('"*/*" is the default for every route without an entry, one bucket per route; an exact entry wins', () => {
  const h = harness();
  const def = definition(
    { routeThrottles: { '*/*': { rateLimit: 0, burstLimit: 2 }, '/b/GET': { rateLimit: 0, burstLimit: 4 } } },
    [['GET', '/a'], ['POST', '/a'], ['GET', '/b']],
  );
  assert.deepEqual(keysOf(h, def, 0), [`r:${API_ID}:prod:GET:/a`, 'acct']);
  assert.deepEqual(keysOf(h, def, 1), [`r:${API_ID}:prod:POST:/a`, 'acct']);
  assert.equal(passes(h.fn(def, 0), 5), 2);
  assert.equal(passes(h.fn(def, 1), 5), 2, 'its own bucket, not the GET one');
  assert.equal(passes(h.fn(def, 2), 5), 4);
  assert.match(denial(h.fn(def, 1)(ctx)).detail ?? '', /routeThrottles\["\*\/\*"\]/);
});

test('the root path is keyed "//GET" and ANY routes "/path/ANY", as AWS method settings', () => {
  const h = harness();
  const def = definition(
    { routeThrottles: { '//GET': { rateLimit: 0, burstLimit: 1 }, '/any/ANY': { rateLimit: 0, burstLimit: 2 } } },
    [['GET', '/'], ['ANY', '/any']],
  );
  assert.deepEqual(keysOf(h, def, 0), [`r:${API_ID}:prod:GET:/`, 'acct']);
  assert.deepEqual(keysOf(h, def, 1), [`r:${API_ID}:prod:ANY:/any`, 'acct']);
  assert.equal(passes(h.fn(def, 0), 3), 1);
  assert.equal(passes(h.fn(def, 1), 3), 2);
});

test('the stage throttle is one bucket shared by all routes of the stage', () => {
  const h = harness();
  const def = definition({ throttle: { rateLimit: 0, burstLimit: 3 } }, [['GET', '/a'], ['GET', '/b']]);
  assert.deepEqual(keysOf(h, def, 0), [`s:${API_ID}:prod`, 'acct']);
  assert.equal(passes(h.fn(def, 0), 2) + passes(h.fn(def, 1), 5), 3);
  assert.match(denial(h.fn(def, 0)(ctx)).detail ?? '', /^stage throttle bucket s:abcdef0123:prod/);
});

test('all or nothing: a route refused by the stage bucket keeps its route token, and the other way round', () => {
  const h = harness();
  const def = definition(
    { throttle: { rateLimit: 0, burstLimit: 2 }, routeThrottles: { '/a/GET': { rateLimit: 0, burstLimit: 3 } } },
    [['GET', '/a'], ['GET', '/b']],
  );
  assert.deepEqual(keysOf(h, def, 0), [`r:${API_ID}:prod:GET:/a`, `s:${API_ID}:prod`, 'acct']);
  const a = h.fn(def, 0);
  assert.equal(passes(a, 2), 2); // route 1 left, stage 0 left
  assert.match(denial(a(ctx)).detail ?? '', /^stage throttle/);
  // The refused requests took nothing from the route bucket: it still has its last token.
  const routeOnly = h.counters.takeBuckets([{ key: `r:${API_ID}:prod:GET:/a`, rateLimit: 0, burstLimit: 3 }], h.clock.now());
  assert.equal((routeOnly as BucketDecision).allowed, true);
});

test('refill follows the fake clock; Retry-After is whole seconds rounded up; a bucket that never refills says a day', () => {
  const h = harness();
  const def = definition(
    { routeThrottles: { '/slow/GET': { rateLimit: 0.4, burstLimit: 1 }, '/never/GET': { rateLimit: 0, burstLimit: 1 } } },
    [['GET', '/slow'], ['GET', '/never']],
  );
  const slow = h.fn(def, 0);
  assert.equal(passes(slow, 1), 1);
  const d = denial(slow(ctx));
  assert.deepEqual(d.headers, { 'Retry-After': '3' }, '2500 ms rounds up to 3 s');
  h.clock.advance(2_499);
  assert.equal(passes(slow, 1), 0);
  h.clock.advance(1);
  assert.equal(passes(slow, 1), 1);

  const never = h.fn(def, 1);
  assert.equal(passes(never, 1), 1);
  h.clock.advance(86_400_000);
  const n = denial(never(ctx));
  assert.deepEqual(n.headers, { 'Retry-After': '86400' }, 'every 429 has Retry-After; never refilling says a day');
  assert.match(n.detail ?? '', /never refills$/);
});

test('burst 0 blocks every request (AWS semantics)', () => {
  const h = harness();
  const def = definition({ routeThrottles: { '/pets/GET': { rateLimit: 100, burstLimit: 0 } } });
  assert.equal(passes(h.fn(def), 10), 0);
});

test('a recompiled snapshot keeps counting in the same buckets (keys are stable strings)', () => {
  const h = harness();
  const def = definition({ throttle: { rateLimit: 0, burstLimit: 3 } });
  assert.equal(passes(h.fn(def), 2), 2);
  const again = definition({ throttle: { rateLimit: 0, burstLimit: 3 } });
  assert.equal(passes(h.fn(again), 5), 1);
});

test('the account throttle comes from settings.accountThrottle and is validated', () => {
  assert.deepEqual(AccountThrottleSchema.parse(undefined), ACCOUNT_THROTTLE_DEFAULT);
  assert.deepEqual(ACCOUNT_THROTTLE_DEFAULT, { rateLimit: 10_000, burstLimit: 5_000 });
  assert.deepEqual(definition({}).settings.accountThrottle, ACCOUNT_THROTTLE_DEFAULT);
  assert.equal(DefinitionSchema.safeParse({ settings: { accountThrottle: { rateLimit: -1, burstLimit: 5 } }, apis: [] }).success, false);
  const h = harness({ rateLimit: -1, burstLimit: 5 });
  assert.throws(() => h.fn(definition({})), /accountThrottle: rateLimit/);
});

/** A store that answers asynchronously with a fixed decision, like Redis does, counting its calls. */
function scriptedStore(decision: BucketDecision): CounterStore & { calls: number } {
  const store = {
    kind: 'redis' as const,
    countsUsage: false,
    calls: 0,
    takeBuckets: async () => {
      store.calls++;
      return decision;
    },
    consumeQuota: async () => ({ allowed: true, used: 0, remaining: 0 }),
    takeBucketsAndQuota: async () => {
      store.calls++;
      return { buckets: decision, quota: decision.allowed ? { allowed: true, used: 0, remaining: 0 } : undefined };
    },
    getQuota: async () => 0,
    setQuota: async () => {},
    health: () => ({ ok: false, since: 0, lastError: 'down' }),
    close: async () => {},
  };
  return store;
}

test('an asynchronous store is awaited: one takeBuckets call per request', async () => {
  const store = scriptedStore({ allowed: false, remaining: 0, retryAfterMs: 1_200, deniedBy: 0 });
  const h = harness(BIG, store);
  const r = h.fn(definition({ throttle: { rateLimit: 1, burstLimit: 1 } }))(ctx);
  assert.ok(r instanceof Promise);
  const d = await r;
  assert.equal(store.calls, 1);
  assert.equal(d?.type, 'THROTTLED');
  assert.deepEqual(d?.headers, { 'Retry-After': '2' });
  assert.match(d?.detail ?? '', /^stage throttle/);
});

test('a broken store: fail open lets the request through, fail closed refuses with a store detail', async () => {
  const open = harness(BIG, scriptedStore({ allowed: true, remaining: 0, retryAfterMs: 0, deniedBy: -1, degraded: true }));
  assert.equal(await open.fn(definition({}))(ctx), undefined);
  const closed = harness(BIG, scriptedStore({ allowed: false, remaining: 0, retryAfterMs: 1_000, deniedBy: -1, degraded: true }));
  const d = await closed.fn(definition({}))(ctx);
  assert.equal(d?.type, 'THROTTLED');
  assert.equal(d?.detail, 'throttle: counter store unavailable, failing closed');
  assert.deepEqual(d?.headers, { 'Retry-After': '1' });
});

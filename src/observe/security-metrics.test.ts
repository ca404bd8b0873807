// The extra metrics from the log phase: refusals per usage plan, authentication failures by reason, upstream
// errors by kind, and the store's health read at scrape time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createSecurityMetrics } from './security-metrics.ts';
import { finishedContext } from './test-support.ts';
import type { ResponseType } from '../core/gateway-responses.ts';

const denied = (type: ResponseType, status: number, extra: (ctx: ReturnType<typeof finishedContext>) => void = () => {}) => {
  const ctx = finishedContext();
  ctx.status = status;
  ctx.error = { message: 'x', messageString: '"x"', responseType: type, validationErrorString: '' };
  ctx.integration = { status: 0, latency: -1, error: '', requestId: '' };
  extra(ctx);
  return ctx;
};

test('throttles and quotas per plan, auth failures by reason, upstream errors by kind', async () => {
  const registry = new Registry();
  let storeOk = true;
  const m = createSecurityMetrics({ registry, storePing: async () => { if (!storeOk) throw new Error('down'); } });
  const gold = (ctx: ReturnType<typeof finishedContext>) => void (ctx.extensions.usagePlan = { plan: { name: 'gold' } });
  m.record(denied('THROTTLED', 429, gold));
  m.record(denied('THROTTLED', 429, gold));
  m.record(denied('QUOTA_EXCEEDED', 429, gold));
  m.record(denied('THROTTLED', 429));
  m.record(denied('INVALID_API_KEY', 403));
  m.record(denied('INVALID_SIGNATURE', 403));
  m.record(denied('MISSING_AUTHENTICATION_TOKEN', 403, (ctx) => void (ctx.route = undefined)));
  m.record(denied('INTEGRATION_TIMEOUT', 504));
  m.record(denied('INTEGRATION_FAILURE', 502));
  const upstream5xx = finishedContext();
  upstream5xx.status = 503;
  upstream5xx.integration = { status: 503, latency: 4, error: '', requestId: '' };
  m.record(upstream5xx);
  m.record(finishedContext());
  m.countTraceSpansDropped(3);

  let text = await registry.metrics();
  assert.match(text, /portcullis_throttled_requests_total\{plan="gold",reason="THROTTLED"\} 2/);
  assert.match(text, /portcullis_throttled_requests_total\{plan="gold",reason="QUOTA_EXCEEDED"\} 1/);
  assert.match(text, /portcullis_throttled_requests_total\{plan="-",reason="THROTTLED"\} 1/);
  assert.match(text, /portcullis_auth_failures_total\{reason="INVALID_API_KEY"\} 1/);
  assert.match(text, /portcullis_auth_failures_total\{reason="INVALID_SIGNATURE"\} 1/);
  assert.match(text, /portcullis_auth_failures_total\{reason="MISSING_AUTHENTICATION_TOKEN"\} 0/, 'no route: not an auth failure');
  assert.match(text, /portcullis_auth_failures_total\{reason="EXPIRED_TOKEN"\} 0/, 'every reason is present from the start');
  assert.match(text, /portcullis_upstream_errors_total\{api="pets",kind="timeout"\} 1/);
  assert.match(text, /portcullis_upstream_errors_total\{api="pets",kind="connection"\} 1/);
  assert.match(text, /portcullis_upstream_errors_total\{api="pets",kind="status_5xx"\} 1/);
  assert.match(text, /portcullis_trace_spans_dropped_total 3/);
  assert.match(text, /portcullis_store_up 1/);
  storeOk = false;
  text = await registry.metrics();
  assert.match(text, /portcullis_store_up 0/);
});

test('authorizer cache counters are plain numbers read at scrape time; JWKS sources start at 0; per-request counting can be off', async () => {
  const registry = new Registry();
  const m = createSecurityMetrics({ registry });
  const c = m.authorizers.cacheCounter('pets', 'tok')!;
  assert.equal(m.authorizers.cacheCounter('pets', 'tok'), c, 'one object per (api, authorizer)');
  c.hits += 3;
  c.misses++;
  const refreshed = m.authorizers.jwksSource('jwt', 'https://issuer.test');
  refreshed('ok');
  let text = await registry.metrics();
  assert.match(text, /portcullis_authorizer_cache_total\{api="pets",authorizer="tok",result="hit"\} 3/);
  assert.match(text, /portcullis_authorizer_cache_total\{api="pets",authorizer="tok",result="miss"\} 1/);
  assert.match(text, /# TYPE portcullis_authorizer_cache_total counter/);
  assert.match(text, /portcullis_jwks_refreshes_total\{authorizer="jwt",issuer="https:\/\/issuer.test",result="ok"\} 1/);
  assert.match(text, /portcullis_jwks_refreshes_total\{authorizer="jwt",issuer="https:\/\/issuer.test",result="error"\} 0/);

  const offRegistry = new Registry();
  const off = createSecurityMetrics({ registry: offRegistry, perRequest: false });
  assert.equal(off.authorizers.cacheCounter('pets', 'tok'), undefined);
  off.authorizers.jwksSource('jwt', 'https://issuer.test')('error');
  text = await offRegistry.metrics();
  assert.doesNotMatch(text, /portcullis_authorizer_cache_total\{/);
  assert.match(text, /portcullis_jwks_refreshes_total\{authorizer="jwt",issuer="https:\/\/issuer.test",result="error"\} 1/, 'refreshes are not per request: still counted');
});

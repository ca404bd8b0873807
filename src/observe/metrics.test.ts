// Gateway metrics: AWS metric names as Prometheus names, bounded labels (route templates, never raw
// paths), histogram buckets, gateway health metrics and the default process metrics.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { RouteRef } from '../gateway/pipeline/context.ts';
import { createGatewayMetrics, LATENCY_BUCKETS_MS } from './metrics.ts';
import { fakeContext, finishedContext } from './test-support.ts';

const route = (resourcePath: string, stageName = 'prod'): RouteRef => ({
  apiId: 'a1b2c3d4e5', apiName: 'pets', stageName, resourcePath, routeKey: `GET ${resourcePath}`,
});

function routed(r: RouteRef, status: number, latency: number, integrationLatency: number, method = 'GET', path = '/prod/pets/1') {
  const ctx = finishedContext({ method, url: path });
  ctx.route = r;
  ctx.resourcePath = r.resourcePath;
  ctx.status = status;
  ctx.responseLatency = latency;
  ctx.integration = { status, latency: integrationLatency, error: '', requestId: '' };
  return ctx;
}

/** Sample lines of one metric name, as "labels value" strings. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

const PETS = 'api="pets",stage="prod",method="GET",resource="/pets/{id}"';

describe('createGatewayMetrics', () => {
  it('counts requests and 4xx/5xx per api, stage, method and route template', async () => {
    const m = createGatewayMetrics({ defaultMetrics: false });
    const byId = route('/pets/{id}');
    m.record(routed(byId, 200, 3, 2, 'GET', '/prod/pets/1'));
    m.record(routed(byId, 404, 7, 6, 'GET', '/prod/pets/2'));
    m.record(routed(byId, 502, 40, -1, 'GET', '/prod/pets/3'));
    // A new snapshot compiles new route objects: same labels, same series.
    m.record(routed(route('/pets/{id}'), 200, 1, 1, 'GET', '/prod/pets/4'));
    const text = await m.render();

    assert.deepEqual(samples(text, 'portcullis_requests_total'), [`portcullis_requests_total{${PETS}} 4`]);
    assert.deepEqual(samples(text, 'portcullis_4xx_errors_total'), [`portcullis_4xx_errors_total{${PETS}} 1`]);
    assert.deepEqual(samples(text, 'portcullis_5xx_errors_total'), [`portcullis_5xx_errors_total{${PETS}} 1`]);
    assert.ok(text.includes('# TYPE portcullis_requests_total counter'));
    assert.ok(text.includes('# HELP portcullis_requests_total Requests received (Amazon API Gateway Count).'));
    assert.ok(!text.includes('/prod/pets/'), 'raw paths never become labels');
  });

  it('renders latency histograms in milliseconds with the gateway buckets', async () => {
    const m = createGatewayMetrics({ defaultMetrics: false });
    const r = route('/pets/{id}');
    for (const [lat, integ] of [[1, 1], [3, 2], [250, 249], [31000, 30999]]) m.record(routed(r, 200, lat, integ));
    const ctx = routed(r, 403, 5, -1); // denied before the integration: no integration sample
    m.record(ctx);
    const text = await m.render();
    assert.ok(text.includes('# TYPE portcullis_latency_ms histogram'));

    const buckets = samples(text, 'portcullis_latency_ms_bucket');
    assert.deepEqual(buckets.map((l) => /le="([^"]+)"/.exec(l)![1]), [...LATENCY_BUCKETS_MS.map(String), '+Inf']);
    const cumulative = (le: string) => Number(buckets.find((l) => l.includes(`le="${le}"`))!.split(' ').pop());
    assert.equal(cumulative('1'), 1);
    assert.equal(cumulative('2'), 1);
    assert.equal(cumulative('5'), 3);
    assert.equal(cumulative('250'), 4);
    assert.equal(cumulative('30000'), 4);
    assert.equal(cumulative('+Inf'), 5);
    assert.deepEqual(samples(text, 'portcullis_latency_ms_sum'), [`portcullis_latency_ms_sum{${PETS}} ${1 + 3 + 250 + 31000 + 5}`]);
    assert.deepEqual(samples(text, 'portcullis_latency_ms_count'), [`portcullis_latency_ms_count{${PETS}} 5`]);
    assert.deepEqual(samples(text, 'portcullis_integration_latency_ms_count'), [`portcullis_integration_latency_ms_count{${PETS}} 4`]);
    assert.ok(buckets[0].startsWith(`portcullis_latency_ms_bucket{${PETS},le="1"}`), buckets[0]);
  });

  it('labels requests that matched no API or route with "-", and bounds methods', async () => {
    const m = createGatewayMetrics({ defaultMetrics: false });
    const noApi = fakeContext({ url: '/nothing/here' });
    noApi.status = 403;
    m.record(noApi);
    const noRoute = fakeContext({ method: 'PROPFIND', url: '/prod/unknown' });
    noRoute.apiName = 'pets';
    noRoute.stage = 'attacker-chosen-stage';
    noRoute.status = 403;
    m.record(noRoute);
    const text = await m.render();
    assert.deepEqual(samples(text, 'portcullis_4xx_errors_total').sort(), [
      'portcullis_4xx_errors_total{api="-",stage="-",method="GET",resource="-"} 1',
      'portcullis_4xx_errors_total{api="pets",stage="-",method="OTHER",resource="-"} 1',
    ]);
    assert.ok(!text.includes('attacker-chosen-stage'));
    assert.ok(!text.includes('PROPFIND'));
  });

  it('exposes build info, the active revision, config reloads and dropped access-log lines', async () => {
    const m = createGatewayMetrics({ defaultMetrics: false, version: '9.9.9' });
    let text = await m.render();
    assert.ok(text.includes(`portcullis_build_info{version="9.9.9",nodejs="${process.version}"} 1`));
    assert.ok(text.includes('portcullis_active_revision 0'));
    assert.ok(text.includes('portcullis_config_reloads_total{result="success"} 0'));
    assert.ok(text.includes('portcullis_config_reloads_total{result="failure"} 0'));
    assert.ok(text.includes('portcullis_access_log_dropped_total 0'));

    m.setActiveRevision(7);
    m.countConfigReload('success');
    m.countConfigReload('failure');
    m.countConfigReload('success');
    m.countAccessLogDrop();
    m.countAccessLogDrop(4);
    text = await m.render();
    assert.ok(text.includes('portcullis_active_revision 7'));
    assert.ok(text.includes('portcullis_config_reloads_total{result="success"} 2'));
    assert.ok(text.includes('portcullis_config_reloads_total{result="failure"} 1'));
    assert.ok(text.includes('portcullis_access_log_dropped_total 5'));
  });

  it("includes prom-client's default process metrics and its content type", async () => {
    const m = createGatewayMetrics();
    const text = await m.render();
    assert.match(text, /^process_cpu_user_seconds_total \d/m);
    assert.match(text, /^nodejs_heap_size_used_bytes \d/m);
    assert.equal(m.contentType, 'text/plain; version=0.0.4; charset=utf-8');
  });

  it('uses a registry it is given, whose JSON export and reset also work', async () => {
    const registry = new Registry();
    const m = createGatewayMetrics({ registry, defaultMetrics: false });
    m.record(routed(route('/pets'), 200, 2, 1));
    assert.equal(m.registry, registry);
    const json = await registry.getMetricsAsJSON();
    const requests = json.find((x) => x.name === 'portcullis_requests_total')!;
    assert.deepEqual(requests.values, [{ value: 1, labels: { api: 'pets', stage: 'prod', method: 'GET', resource: '/pets' } }]);
    registry.resetMetrics();
    assert.ok((await m.render()).includes('portcullis_requests_total{api="pets",stage="prod",method="GET",resource="/pets"} 0'));
  });

  it('escapes label values from the definition', async () => {
    const m = createGatewayMetrics({ defaultMetrics: false });
    m.record(routed({ ...route('/a"b\\c'), apiName: 'we"ird' }, 200, 1, 1));
    const text = await m.render();
    assert.ok(text.includes('portcullis_requests_total{api="we\\"ird",stage="prod",method="GET",resource="/a\\"b\\\\c"} 1'), text);
  });
});

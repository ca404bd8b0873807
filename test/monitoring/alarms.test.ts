// Anomaly detection and alarms end to end: synthetic traffic against a real gateway (SQLite, fake clock), a real
// webhook receiver checking the HMAC signature, a brute-force burst raising the alarm and the block, normal traffic
// not raising anything, the alarm returning to OK, the block expiring, a key disabled, and every change audited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFakeClock } from '../../src/core/clock.ts';
import { verifySignature, SIGNATURE_HEADER } from '../../src/observe/alarms/notify.ts';
import { ADMIN_TOKEN, TEST_MASTER_KEY, eventually, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { main } from '../../src/cli/main.ts';

async function cli(args: string[], env: NodeJS.ProcessEnv) {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'portcullis', ...args], { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), env });
  return { code, stdout, stderr };
}

const SECRET = 'alarm-hmac-secret-for-tests';
// A minute boundary: alarm periods are aligned to the clock.
const clock = createFakeClock(Date.UTC(2026, 2, 1, 12, 0, 0));

interface Received {
  body: string;
  json: { AlarmName: string; NewStateValue: string; OldStateValue: string; Dimensions: Array<{ name: string; value: string }>; NewStateReason: string };
  signature: string;
}
const received: Received[] = [];
let receiver: http.Server;
let hookUrl = '';
let gw: TestGateway;

const definition = () => ({
  settings: { trustedProxies: ['127.0.0.1'] },
  apis: [
    {
      name: 'pets',
      stages: { prod: {} },
      routes: [{ method: 'GET', path: '/pets', apiKeyRequired: true, integration: { type: 'mock', body: { ok: true } } }],
    },
  ],
  usagePlans: [{ name: 'gold', apiStages: [{ api: 'pets', stage: 'prod' }], throttle: { rateLimit: 1000, burstLimit: 1000 } }],
  monitoring: {
    webhooks: { security: { url: hookUrl, secretEnv: 'TEST_ALARM_SECRET' } },
    rules: {
      credentialStuffing: { threshold: 5, notify: ['security', 'log'], actions: { blockSourceIp: { seconds: 600 } } },
      keyEnumeration: false,
      distributedKeyAttack: false,
      keySpread: { threshold: 4, notify: ['security'], actions: { disableApiKey: true } },
      errorSpike: false,
      latencySpike: false,
    },
    alarms: [{ name: 'auth-failures-total', metric: 'AuthFailures', threshold: 8, periodSeconds: 60, notify: ['security'] }],
  },
});

const admin = async (method: string, path: string, body?: unknown) => {
  const res = await request(gw.adminUrl, path, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: JSON.parse(res.body) };
};
let sent = 0;
const call = (ip: string, key?: string) => {
  sent++;
  return request(gw.url, '/prod/pets', { headers: { 'x-forwarded-for': ip, ...(key ? { 'x-api-key': key } : {}) } });
};
/**
 * Moves the clock to the next period and lets the evaluation and its notifications finish. First waits until every
 * request sent has been through the log phase (its access-log line is written after the monitor saw it), so no
 * request of this period is counted in the next one.
 */
const nextPeriod = async (ms = 60_000) => {
  await eventually(() => gw.logLines.length >= sent);
  clock.advance(ms);
  gw.gateway.monitor.evaluate();
  await gw.gateway.monitor.idle();
};
const alarm = async (name: string) => {
  const r = await admin('GET', '/v1/alarms');
  assert.equal(r.status, 200);
  return (r.json.alarms as Array<{ name: string; state: string; series: Array<{ dimension: string; state: string }> }>).find((a) => a.name === name)!;
};
const hooks = (name: string) => received.filter((r) => r.json.AlarmName === name);

let normalKey = '';
let sharedKey = { id: '', value: '' };

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ body, json: JSON.parse(body), signature: String(req.headers[SIGNATURE_HEADER] ?? '') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alarms`;
  gw = await startTestGateway(definition(), {
    clock,
    alarmEvaluationMs: 0,
    env: { PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN, PORTCULLIS_LOG_LEVEL: 'silent', PORTCULLIS_MASTER_KEY: TEST_MASTER_KEY, TEST_ALARM_SECRET: SECRET },
  });
  normalKey = (await admin('POST', '/v1/api-keys', { name: 'normal', plans: ['gold'] })).json.value;
  const shared = await admin('POST', '/v1/api-keys', { name: 'shared', plans: ['gold'] });
  sharedKey = { id: shared.json.key.id, value: shared.json.value };
});
after(async () => {
  await gw?.close();
  receiver?.close();
});

describe('alarms on a real gateway', () => {
  test('normal traffic raises nothing; the gateway alarm leaves INSUFFICIENT_DATA for OK', async () => {
    assert.equal((await alarm('auth-failures-total')).state, 'INSUFFICIENT_DATA');
    for (let i = 0; i < 10; i++) assert.equal((await call('198.51.100.1', normalKey)).status, 200);
    // A user mistyping their key a few times is normal.
    for (let i = 0; i < 3; i++) assert.equal((await call('198.51.100.1', 'wrong-key-' + i)).status, 403);
    await nextPeriod();
    assert.equal((await alarm('auth-failures-total')).state, 'OK');
    const stuffing = await alarm('rule-credentialStuffing');
    assert.equal(stuffing.state, 'OK');
    assert.deepEqual(stuffing.series, []);
    assert.deepEqual((await admin('GET', '/v1/blocked-sources')).json.blocked, []);
    assert.deepEqual(hooks('rule-credentialStuffing'), []);
    assert.deepEqual(hooks('auth-failures-total').map((h) => `${h.json.OldStateValue}->${h.json.NewStateValue}`), ['INSUFFICIENT_DATA->OK']);
  });

  test('a brute-force burst raises the alarm, a signed notification and the block; others are served', async () => {
    for (let i = 0; i < 12; i++) assert.equal((await call('203.0.113.7', `guess-${i}`)).status, 403);
    assert.equal((await call('198.51.100.1', normalKey)).status, 200);
    await nextPeriod();

    const stuffing = await alarm('rule-credentialStuffing');
    assert.equal(stuffing.state, 'ALARM');
    assert.deepEqual(stuffing.series.map((s) => [s.dimension, s.state]), [['203.0.113.7', 'ALARM']]);
    assert.equal((await alarm('auth-failures-total')).state, 'ALARM');

    const [hook] = hooks('rule-credentialStuffing');
    assert.ok(hook, 'the webhook received the state change');
    assert.equal(hook.json.NewStateValue, 'ALARM');
    assert.deepEqual(hook.json.Dimensions, [{ name: 'SourceIp', value: '203.0.113.7' }]);
    assert.match(hook.json.NewStateReason, /\[12\]/);
    assert.ok(verifySignature(SECRET, hook.body, hook.signature, clock.now() / 1000), 'HMAC signature verifies');
    assert.equal(verifySignature('another-secret', hook.body, hook.signature, clock.now() / 1000), false);
    assert.equal(verifySignature(SECRET, hook.body.replace('ALARM', 'OK'), hook.signature, clock.now() / 1000), false);

    // The attacker is refused even with a valid key, as AWS WAF would; everyone else is served.
    const blocked = await call('203.0.113.7', normalKey);
    assert.equal(blocked.status, 403);
    assert.deepEqual(JSON.parse(blocked.body), { message: 'Forbidden' });
    assert.equal(blocked.headers['x-amzn-errortype'], 'WafFilteredException');
    assert.equal((await call('198.51.100.1', normalKey)).status, 200);
    const list = (await admin('GET', '/v1/blocked-sources')).json.blocked;
    assert.deepEqual(list.map((b: { sourceIp: string; alarm: string }) => [b.sourceIp, b.alarm]), [['203.0.113.7', 'rule-credentialStuffing']]);
    const metrics = await request(gw.adminUrl, '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.match(metrics.body, /portcullis_blocked_requests_total 1\b/);
    assert.match(metrics.body, /portcullis_alarm_series\{alarm="rule-credentialStuffing",state="ALARM"\} 1/);
    assert.match(metrics.body, /portcullis_auth_failures_total\{reason="INVALID_API_KEY"\} 15/);
  });

  test('the alarm returns to OK when the burst stops; the block lasts its period, then expires', async () => {
    await nextPeriod();
    assert.equal((await alarm('rule-credentialStuffing')).state, 'OK');
    assert.equal((await alarm('auth-failures-total')).state, 'OK');
    assert.deepEqual(hooks('rule-credentialStuffing').map((h) => h.json.NewStateValue), ['ALARM', 'OK']);
    assert.equal((await call('203.0.113.7', normalKey)).status, 403, 'still blocked');
    await nextPeriod(600_000);
    assert.deepEqual((await admin('GET', '/v1/blocked-sources')).json.blocked, []);
    assert.equal((await call('203.0.113.7', normalKey)).status, 200);
  });

  test('an operator can see alarms and blocks and lift a block early (admin API and CLI)', async () => {
    for (let i = 0; i < 6; i++) await call('203.0.113.9', `guess-${i}`);
    await nextPeriod();
    assert.equal((await call('203.0.113.9', normalKey)).status, 403);
    const env = { PORTCULLIS_ADMIN_URL: gw.adminUrl, PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN };
    const list = await cli(['alarms', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /rule-credentialStuffing\s+AuthFailures\s+sourceIp\s+ALARM/);
    assert.match(list.stdout, /203\.0\.113\.9\s+ALARM/);
    const blocked = await cli(['alarms', 'blocked'], env);
    assert.match(blocked.stdout, /203\.0\.113\.9 .*rule-credentialStuffing/);
    const unblock = await cli(['alarms', 'unblock', '203.0.113.9'], env);
    assert.equal(unblock.code, 0, unblock.stderr);
    assert.match(unblock.stdout, /unblocked 203\.0\.113\.9/);
    assert.equal((await call('203.0.113.9', normalKey)).status, 200);
    assert.equal((await admin('DELETE', '/v1/blocked-sources/203.0.113.9')).status, 404);
  });

  test('a key used from an unusual number of addresses is disabled when the alarm says so', async () => {
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']) {
      assert.equal((await call(ip, sharedKey.value)).status, 200);
    }
    await nextPeriod(300_000);
    const spread = await alarm('rule-keySpread');
    assert.deepEqual(spread.series.map((s) => [s.dimension, s.state]), [[sharedKey.id, 'ALARM']]);
    const key = await admin('GET', `/v1/api-keys/${sharedKey.id}`);
    assert.equal(key.json.key?.enabled ?? key.json.enabled, false);
    assert.equal((await call('192.0.2.1', sharedKey.value)).status, 403);
    assert.equal((await call('198.51.100.1', normalKey)).status, 200, 'other keys are untouched');
  });

  test('alarms can be defined and deleted through the admin API, validated and audited', async () => {
    const bad = await admin('POST', '/v1/alarms', { name: 'busy', metric: 'Count' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.message, 'threshold: an alarm needs exactly one of threshold and anomalyBand');
    const taken = await admin('POST', '/v1/alarms', { name: 'auth-failures-total', metric: 'Count', threshold: 1 });
    assert.match(taken.json.error.message, /taken by the definition/);
    const hook = await admin('POST', '/v1/alarms', { name: 'busy', metric: 'Count', threshold: 1, notify: ['pager'] });
    assert.match(hook.json.error.message, /unknown webhook "pager"/);

    const put = await admin('POST', '/v1/alarms', { name: 'busy', metric: 'Count', per: 'api', threshold: 3, notify: ['security'] });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    assert.equal(put.json.alarm.periodSeconds, 60, 'defaults filled in');
    assert.equal((await alarm('busy')).state, 'INSUFFICIENT_DATA');
    for (let i = 0; i < 4; i++) await call('198.51.100.1', normalKey);
    await nextPeriod();
    assert.equal((await alarm('busy')).state, 'ALARM');
    assert.deepEqual(hooks('busy').map((h) => [h.json.NewStateValue, h.json.Dimensions[0]?.value]), [['ALARM', 'pets']]);
    assert.equal((await admin('DELETE', '/v1/alarms/busy')).status, 200);
    assert.equal(await alarm('busy'), undefined);
    assert.equal((await admin('DELETE', '/v1/alarms/busy')).status, 404);
    assert.equal((await admin('DELETE', '/v1/alarms/auth-failures-total')).status, 404, 'definition alarms change with a deployment');
  });

  test('every state change, block and key change is in the audit trail', async () => {
    const events = (await admin('GET', '/v1/audit/events?limit=10000')).json.events as Array<{
      eventName: string;
      userIdentity: { type: string; userName: string };
      requestParameters: Record<string, unknown>;
      responseElements: Record<string, unknown>;
    }>;
    const mine = events.filter((e) => e.userIdentity.userName === 'portcullis monitor');
    const states = mine
      .filter((e) => e.eventName === 'SetAlarmState' && e.requestParameters.alarmName === 'rule-credentialStuffing')
      .map((e) => `${(e.requestParameters.dimensions as { SourceIp: string }).SourceIp} ${e.responseElements.oldState}->${e.responseElements.newState}`);
    assert.deepEqual(states, ['203.0.113.7 OK->ALARM', '203.0.113.7 ALARM->OK', '203.0.113.9 OK->ALARM', '203.0.113.9 ALARM->OK']);
    const blocks = mine.filter((e) => e.eventName === 'BlockSourceIp').map((e) => e.requestParameters.sourceIp);
    assert.deepEqual(blocks, ['203.0.113.7', '203.0.113.9']);
    const disabled = mine.find((e) => e.eventName === 'UpdateApiKey');
    assert.equal(disabled?.requestParameters.apiKeyId, sharedKey.id);
    assert.deepEqual(disabled?.responseElements, { id: sharedKey.id, enabled: false });
    assert.ok(events.some((e) => e.eventName === 'DeleteBlockedSource'), 'the operator lifting a block is audited too');
    const defined = events.filter((e) => e.eventName === 'PutMetricAlarm' || e.eventName === 'DeleteAlarms');
    assert.deepEqual(
      defined.map((e) => [e.eventName, (e as { errorCode?: string }).errorCode ?? 'ok']),
      [['PutMetricAlarm', 'BAD_REQUEST'], ['PutMetricAlarm', 'BAD_REQUEST'], ['PutMetricAlarm', 'BAD_REQUEST'], ['PutMetricAlarm', 'ok'], ['DeleteAlarms', 'ok'], ['DeleteAlarms', 'NOT_FOUND'], ['DeleteAlarms', 'NOT_FOUND']],
    );
    const verify = await admin('GET', '/v1/audit/verify');
    assert.equal(verify.json.ok, true, JSON.stringify(verify.json.problems));
  });
});

// End-to-end behaviour of the data plane through a real gateway and real upstreams: API and stage
// selection, routing, AWS's default and customised gateway responses, request ids, the access log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('gateway data plane', () => {
  let gw: TestGateway;
  let upstream: Awaited<ReturnType<typeof startServer>>;
  const seen: Array<{ method: string; url: string; headers: Record<string, unknown> }> = [];

  before(async () => {
    upstream = await startServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ upstream: true, method: req.method, url: req.url }));
    });
    gw = await startTestGateway({
      apis: [
        {
          name: 'pets',
          basePath: '/pets-api',
          stages: {
            prod: { variables: { backend: upstream.url, tier: 'gold' } },
            beta: { variables: { backend: upstream.url, tier: 'beta' } },
          },
          routes: [
            { method: 'GET', path: '/pets', integration: { type: 'http_proxy', url: '${stageVariables.backend}/v1/pets' } },
            { method: 'GET', path: '/pets/{id}', integration: { type: 'http_proxy', url: '${stageVariables.backend}/v1/pets/{id}' } },
            { method: 'GET', path: '/pets/mine', integration: { type: 'mock', body: { static: true } } },
            { method: 'ANY', path: '/files/{proxy+}', integration: { type: 'http_proxy', url: '${stageVariables.backend}/store/{proxy}' } },
            { method: 'POST', path: '/files/upload', integration: { type: 'mock', statusCode: 201, body: 'created' } },
            { method: 'GET', path: '/', integration: { type: 'mock', body: { root: true } } },
            { method: 'GET', path: '/docs/{page+}', integration: { type: 'http_proxy', url: '${stageVariables.backend}/manual/{page}' } },
          ],
          gatewayResponses: {
            MISSING_AUTHENTICATION_TOKEN: {
              statusCode: 404,
              headers: { 'x-tier': 'stageVariables.tier', 'x-static': "'yes'", 'x-echo': 'method.request.header.x-echo' },
              templates: { 'application/json': '{"error":$context.error.messageString,"type":"$context.error.responseType","stage":"$context.stage","id":"$context.requestId"}' },
            },
          },
        },
        {
          name: 'admin-api',
          hosts: ['admin.example.com'],
          stages: { v1: {} },
          routes: [{ method: 'GET', path: '/who', integration: { type: 'mock', body: { api: 'admin' } } }],
          gatewayResponses: { DEFAULT_4XX: { statusCode: 400, headers: { 'x-default': "'4xx'" } } },
        },
      ],
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  test('proxies to the upstream with stage variables and path parameters', async () => {
    const res = await request(gw.url, '/pets-api/prod/pets/42?limit=5&x=a%20b');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { upstream: true, method: 'GET', url: '/v1/pets/42?limit=5&x=a%20b' });
    assert.match(String(res.headers['x-amzn-requestid']), UUID);
    assert.ok(res.headers['x-amz-apigw-id']);
  });

  test('static routes win over parameters, parameters over greedy', async () => {
    assert.deepEqual(JSON.parse((await request(gw.url, '/pets-api/prod/pets/mine')).body), { static: true });
    const upload = await request(gw.url, '/pets-api/prod/files/upload', { method: 'POST', body: 'x' });
    assert.equal(upload.status, 201);
    assert.equal(upload.body, 'created');
    const greedy = await request(gw.url, '/pets-api/prod/files/a/b%20c/d.txt', { method: 'PUT', body: 'x' });
    assert.deepEqual(JSON.parse(greedy.body), { upstream: true, method: 'PUT', url: '/store/a/b%20c/d.txt' });
  });

  test('a named greedy parameter keeps its slashes', async () => {
    const res = await request(gw.url, '/pets-api/prod/docs/a/b/c.html');
    assert.equal(JSON.parse(res.body).url, '/manual/a/b/c.html');
  });

  test('an encoded slash in a parameter cannot change the upstream path', async () => {
    const res = await request(gw.url, '/pets-api/prod/pets/1%2F..%2Fadmin');
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).url, '/v1/pets/1%2F..%2Fadmin');
  });

  test('the root resource and the stage root', async () => {
    assert.deepEqual(JSON.parse((await request(gw.url, '/pets-api/prod')).body), { root: true });
    assert.deepEqual(JSON.parse((await request(gw.url, '/pets-api/prod/')).body), { root: true });
  });

  test('an unknown route gets the customised MISSING_AUTHENTICATION_TOKEN response', async () => {
    const res = await request(gw.url, '/pets-api/beta/nothing', { headers: { 'x-echo': 'hello' } });
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException');
    assert.equal(res.headers['x-tier'], 'beta');
    assert.equal(res.headers['x-static'], 'yes');
    assert.equal(res.headers['x-echo'], 'hello');
    const body = JSON.parse(res.body);
    assert.deepEqual(body, { error: 'Missing Authentication Token', type: 'MISSING_AUTHENTICATION_TOKEN', stage: 'beta', id: res.headers['x-amzn-requestid'] });
  });

  test('an unknown method on a known path is MISSING_AUTHENTICATION_TOKEN too', async () => {
    const res = await request(gw.url, '/pets-api/prod/pets', { method: 'DELETE' });
    assert.equal(res.status, 404);
  });

  test('the AWS default for an unmatched route, and DEFAULT_4XX fallback', async () => {
    const res = await request(gw.url, '/v1/nope', { headers: { host: 'admin.example.com' } });
    // DEFAULT_4XX sets 400 for every 4xx type without a response of its own.
    assert.equal(res.status, 400);
    assert.equal(res.headers['x-default'], '4xx');
    assert.equal(res.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException');
    assert.deepEqual(JSON.parse(res.body), { message: 'Missing Authentication Token' });
  });

  test('an unmatched route with an Authorization header that is not Signature V4: 403 IncompleteSignatureException', async () => {
    const bearer = await request(gw.url, '/pets-api/prod/nowhere', { headers: { authorization: 'Bearer xyz' } });
    assert.equal(bearer.status, 403);
    assert.equal(bearer.headers['x-amzn-errortype'], 'IncompleteSignatureException');
    assert.deepEqual(JSON.parse(bearer.body), {
      message: "'xyz' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer xyz'.",
    });
    const pairs = await request(gw.url, '/pets-api/prod/nowhere', { headers: { authorization: 'a=b' } });
    assert.equal(pairs.headers['x-amzn-errortype'], 'IncompleteSignatureException');
    assert.match(JSON.parse(pairs.body).message, /^Authorization header requires 'Credential' parameter\. .* Authorization=a=b$/);
    // Without the header it stays Missing Authentication Token.
    const none = await request(gw.url, '/pets-api/prod/nowhere');
    assert.equal(none.headers['x-amzn-errortype'], 'MissingAuthenticationTokenException');
  });

  test('APIs are selected by host; an unknown stage or API is 403 Forbidden', async () => {
    const who = await request(gw.url, '/v1/who', { headers: { host: 'ADMIN.example.com:443' } });
    assert.deepEqual(JSON.parse(who.body), { api: 'admin' });
    const noHost = await request(gw.url, '/v1/who');
    assert.equal(noHost.status, 403);
    assert.deepEqual(JSON.parse(noHost.body), { message: 'Forbidden' });
    assert.equal(noHost.headers['x-amzn-errortype'], 'ForbiddenException');
    const noStage = await request(gw.url, '/pets-api/staging/pets');
    assert.equal(noStage.status, 403);
    assert.deepEqual(JSON.parse(noStage.body), { message: 'Forbidden' });
  });

  test('a client-supplied UUID request id is kept, anything else replaced', async () => {
    const id = '4b7c1f0e-2a3d-4e5f-8a9b-0c1d2e3f4a5b';
    const kept = await request(gw.url, '/pets-api/prod/pets/mine', { headers: { 'x-amzn-requestid': id } });
    assert.equal(kept.headers['x-amzn-requestid'], id);
    const replaced = await request(gw.url, '/pets-api/prod/pets/mine', { headers: { 'x-amzn-requestid': 'not-a-uuid' } });
    assert.match(String(replaced.headers['x-amzn-requestid']), UUID);
  });

  test('every request writes one access-log record without credentials', async () => {
    const before = gw.logLines.length;
    const res = await request(gw.url, '/pets-api/prod/pets?limit=1', {
      headers: { authorization: 'Bearer SECRET-TOKEN', 'x-api-key': 'SECRET-KEY', cookie: 'session=SECRET-COOKIE', 'user-agent': 'test-agent' },
    });
    const requestId = res.headers['x-amzn-requestid'];
    const line = await waitForLine(gw, before, String(requestId));
    const record = JSON.parse(line);
    assert.equal(record.requestId, requestId);
    assert.equal(record.httpMethod, 'GET');
    assert.equal(record.resourcePath, '/pets');
    assert.equal(String(record.status), '200');
    assert.equal(record.ip, '127.0.0.1');
    for (const secret of ['SECRET-TOKEN', 'SECRET-KEY', 'SECRET-COOKIE']) assert.ok(!line.includes(secret), `log line leaks ${secret}`);
  });

  test('denials are logged with their response type', async () => {
    const before = gw.logLines.length;
    const res = await request(gw.url, '/pets-api/prod/unknown');
    const line = await waitForLine(gw, before, String(res.headers['x-amzn-requestid']));
    assert.match(line, /MISSING_AUTHENTICATION_TOKEN/);
  });

  test('hop-by-hop headers are not forwarded and X-Forwarded-* are set', async () => {
    seen.length = 0;
    await request(gw.url, '/pets-api/prod/pets', { headers: { connection: 'keep-alive, x-hop', 'x-hop': '1', 'x-end': '2' } });
    const h = seen.at(-1)!.headers;
    assert.equal(h['x-hop'], undefined);
    assert.equal(h['x-end'], '2');
    assert.equal(h['x-forwarded-for'], '127.0.0.1');
    assert.equal(h['x-forwarded-proto'], 'http');
  });
});

async function waitForLine(gw: TestGateway, from: number, needle: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const line = gw.logLines.slice(from).find((l) => l.includes(needle));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no access-log line containing ${needle}; got:\n${gw.logLines.slice(from).join('\n')}`);
}

describe('a client that leaves before the upstream answers', () => {
  test("is logged with the integration's error and no integration latency", async () => {
    let arrived!: () => void;
    const got = new Promise<void>((r) => (arrived = r));
    const held: Array<import('node:http').ServerResponse> = [];
    const upstream = await startServer((_req, res) => {
      held.push(res);
      arrived();
    });
    const gw = await startTestGateway({
      settings: { accessLog: { format: '{"requestId":"$context.requestId","error":"$context.integration.error","latency":"$context.integrationLatency"}' } },
      apis: [{ name: 'slow', stages: { prod: {} }, routes: [{ method: 'GET', path: '/wait', integration: { type: 'http_proxy', url: `${upstream.url}/` } }] }],
    });
    try {
      const id = '0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';
      const socket = net.connect(gw.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.write(`GET /prod/wait HTTP/1.1\r\nHost: gw\r\nx-amzn-requestid: ${id}\r\n\r\n`);
      await got;
      socket.destroy();
      const record = JSON.parse(await waitForLine(gw, 0, id));
      assert.deepEqual(record, { requestId: id, error: 'Client closed the connection', latency: '-' });
    } finally {
      for (const res of held) res.destroy();
      await gw.close();
      await upstream.close();
    }
  });
});

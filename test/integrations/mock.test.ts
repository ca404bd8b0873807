// The mock integration: static status, headers and body prepared once; HEAD and 204 without a body;
// a request body is discarded and the connection stays reusable.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, request } from 'undici';
import { createMockIntegration } from '../../src/gateway/integrations/mock.ts';
import { MockIntegrationSchema } from '../../src/config/schema.ts';
import { header, rawRequest, startTestGateway, type TestGateway } from './harness.ts';

const gateways: TestGateway[] = [];
after(async () => {
  for (const g of gateways) await g.close();
});

async function mock(settings: Record<string, unknown>): Promise<TestGateway> {
  const g = await startTestGateway(createMockIntegration(MockIntegrationSchema.parse({ type: 'mock', ...settings })));
  gateways.push(g);
  return g;
}

async function get(g: TestGateway, method = 'GET') {
  const r = await rawRequest(g.port, `${method} / HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`);
  return r;
}

test('an object body is JSON with application/json and a Content-Length', async () => {
  const g = await mock({ statusCode: 201, body: { ok: true, items: [1, 2] } });
  const r = await get(g);
  assert.equal(r.status, 201);
  assert.equal(r.body, '{"ok":true,"items":[1,2]}');
  assert.deepEqual(header(r, 'content-type'), ['application/json']);
  assert.deepEqual(header(r, 'content-length'), [String(r.body.length)]);
  assert.equal(header(r, 'x-amzn-requestid').length, 1, "the gateway's headers are kept");
  assert.equal(g.outcomes[0].ctx.integration.status, 201);
  assert.equal(g.outcomes[0].ctx.responseLength, r.body.length);
});

test('an array body is JSON too', async () => {
  const r = await get(await mock({ body: [1, 'two'] }));
  assert.equal(r.body, '[1,"two"]');
  assert.deepEqual(header(r, 'content-type'), ['application/json']);
});

test('a string body is text/plain; charset=utf-8, counted in bytes', async () => {
  const r = await get(await mock({ body: 'héllo' }));
  assert.equal(r.status, 200);
  assert.deepEqual(header(r, 'content-type'), ['text/plain; charset=utf-8']);
  assert.deepEqual(header(r, 'content-length'), ['6']);
  assert.equal(Buffer.from(r.body, 'latin1').toString('utf8'), 'héllo');
});

test('configured headers are sent; a configured Content-Type wins; framing headers are ignored', async () => {
  const r = await get(
    await mock({
      body: '<p>x</p>',
      headers: { 'Content-Type': 'text/html', 'X-Mock': 'yes', 'Content-Length': '999', 'Transfer-Encoding': 'chunked' },
    }),
  );
  assert.deepEqual(header(r, 'content-type'), ['text/html']);
  assert.deepEqual(header(r, 'x-mock'), ['yes']);
  assert.deepEqual(header(r, 'content-length'), ['8']);
  assert.deepEqual(header(r, 'transfer-encoding'), []);
  assert.equal(r.body, '<p>x</p>');
});

test('no body: Content-Length 0 and no Content-Type', async () => {
  const r = await get(await mock({ statusCode: 202 }));
  assert.equal(r.status, 202);
  assert.deepEqual(header(r, 'content-length'), ['0']);
  assert.deepEqual(header(r, 'content-type'), []);
  assert.equal(r.body, '');
});

test('HEAD gets the headers with the real Content-Length and no body', async () => {
  const r = await get(await mock({ body: { a: 1 } }), 'HEAD');
  assert.equal(r.status, 200);
  assert.deepEqual(header(r, 'content-length'), ['7']);
  assert.equal(r.body, '');
});

test('204 sends no body even when one is configured', async () => {
  const r = await get(await mock({ statusCode: 204, body: 'ignored' }));
  assert.equal(r.status, 204);
  assert.equal(r.body, '');
  assert.deepEqual(header(r, 'content-length'), []);
});

test('a request body is discarded and the connection is reused', async () => {
  const g = await mock({ body: 'ok' });
  const client = new Client(g.url, { pipelining: 1 });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await client.request({ path: '/', method: 'POST', body: Buffer.alloc(200_000, 97) });
      assert.equal(await r.body.text(), 'ok');
    }
    const r = await request(g.url, { dispatcher: client });
    assert.equal(await r.body.text(), 'ok');
  } finally {
    await client.close();
  }
});

test('an informational status cannot be mocked', () => {
  assert.throws(() => createMockIntegration(MockIntegrationSchema.parse({ type: 'mock', statusCode: 101 })), /informational/);
});

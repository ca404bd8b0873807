// TLS towards upstreams: a configured CA bundle, a client certificate (backend mTLS), system CAs by
// default, and the explicit opt-out of verification; bad files are deploy problems.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { createPki, type PkiFiles } from '../helpers/pki.ts';

describe('TLS to upstreams', () => {
  let pki: PkiFiles;
  let upstream: https.Server;
  let base: string;
  const gateways: TestGateway[] = [];

  before(async () => {
    pki = await createPki(await mkdtemp(join(tmpdir(), 'portcullis-upki-')));
    const { readFile } = await import('node:fs/promises');
    upstream = https.createServer(
      { cert: await readFile(pki.server.b.cert), key: await readFile(pki.server.b.key), ca: pki.ca.cert, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        const s = req.socket as TLSSocket;
        const peer = s.getPeerCertificate();
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ authorized: s.authorized, cn: peer?.subject?.CN ?? null }));
      },
    );
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  });

  after(async () => {
    for (const g of gateways) await g.close();
    upstream.closeAllConnections();
    await new Promise((r) => upstream.close(r));
    await rm(pki.dir, { recursive: true, force: true });
  });

  const start = async (tls: Record<string, unknown> | undefined) => {
    const client = await pki.write('upstream-client', pki.clients.valid);
    const resolved = tls && JSON.parse(JSON.stringify(tls).replaceAll('CLIENT_CERT', client.cert).replaceAll('CLIENT_KEY', client.key)) as Record<string, unknown>;
    const gw = await startTestGateway(
      {
        apis: [{ name: 'up', stages: { prod: {} }, routes: [{ method: 'GET', path: '/x', integration: { type: 'http_proxy', url: `${base}/x`, ...(resolved ? { tls: resolved } : {}) } }] }],
      },
      { httpMode: 'serve' },
    );
    gateways.push(gw);
    return gw;
  };

  test('a CA bundle and a client certificate: verified both ways', async () => {
    const gw = await start({ ca: pki.caCert, cert: 'CLIENT_CERT', key: 'CLIENT_KEY' });
    const res = await request(gw.url, '/prod/x');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { authorized: true, cn: 'client-1' });
  });

  test('system CAs by default: a private CA is not trusted', async () => {
    const gw = await start(undefined);
    const res = await request(gw.url, '/prod/x');
    assert.equal(res.status, 504);
    assert.equal(res.headers['x-amzn-errortype'], 'InternalServerErrorException');
  });

  test('insecureSkipVerification connects without verifying', async () => {
    const gw = await start({ insecureSkipVerification: true });
    const res = await request(gw.url, '/prod/x');
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { authorized: false, cn: null });
  });

  test('an unreadable CA file is a deploy problem with its path', async () => {
    await assert.rejects(start({ ca: join(pki.dir, 'missing.pem') }), /apis\[0\]\.routes\[0\].*upstream CA bundle .*missing\.pem cannot be read \(ENOENT\)/);
  });
});

// `portcullis certs dev` as a user runs it: a local CA, server and client certificates with private keys
// readable by the owner only, a guide printed, and files that work as printed (HTTPS and mTLS with curl).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ADMIN_TOKEN, request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const bin = fileURLToPath(new URL('../../bin/portcullis.js', import.meta.url));
const exec = promisify(execFile);

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PORTCULLIS_')));
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('portcullis certs dev', () => {
  let dir: string;
  let certs: string;
  let gw: TestGateway | undefined;
  let upstream: Awaited<ReturnType<typeof startServer>>;
  let first: { code: number; stdout: string; stderr: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-certs-'));
    certs = join(dir, 'certs');
    upstream = await startServer((req, res) => res.end(`hello ${String(req.headers['x-client-subject'] ?? 'anonymous')}`));
    first = await cli(['certs', 'dev', '--dir', certs, '--name', 'api.localtest', '--client', 'alice']);
  });

  after(async () => {
    await gw?.close();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('writes a CA, a server chain and a client certificate; keys are owner-only; prints how to trust and use them', async () => {
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await stat(certs)).mode & 0o777, 0o700);
    for (const key of ['ca-key.pem', 'server-key.pem', 'client-alice-key.pem']) {
      assert.equal((await stat(join(certs, key))).mode & 0o077, 0, `${key} must not be readable by group or others`);
    }
    const ca = new X509Certificate(await readFile(join(certs, 'ca.pem')));
    const server = new X509Certificate(await readFile(join(certs, 'server.pem')));
    const client = new X509Certificate(await readFile(join(certs, 'client-alice.pem')));
    assert.ok(ca.ca);
    assert.ok(server.verify(ca.publicKey) && client.verify(ca.publicKey));
    assert.equal(server.checkHost('localhost'), 'localhost');
    assert.equal(server.checkHost('api.localtest'), 'api.localtest');
    assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
    assert.match(client.subjectAltName ?? '', /URI:spiffe:\/\/portcullis\.dev\/alice/);
    assert.match(first.stdout, /NODE_EXTRA_CA_CERTS=/);
    assert.match(first.stdout, /update-ca-certificates/);
    assert.match(first.stdout, new RegExp(`curl --cacert ${join(certs, 'ca.pem')} --cert ${join(certs, 'client-alice.pem')}`));
  });

  test('a second run refuses to overwrite the CA without --force, naming the file', async () => {
    const again = await cli(['certs', 'dev', '--dir', certs]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, new RegExp(`${join(certs, 'ca.pem')} exists; pass --force`));
  });

  test('the files serve HTTPS and mutual TLS as the guide says (curl)', async () => {
    gw = await startTestGateway(
      {
        apis: [{ name: 'hello', basePath: '/hello-api', stages: { prod: {} }, routes: [{ method: 'GET', path: '/hi', integration: { type: 'http_proxy', url: `${upstream.url}/hi` } }] }],
        domains: [
          {
            name: 'localhost',
            certificate: { cert: join(certs, 'server.pem'), key: join(certs, 'server-key.pem') },
            basePathMappings: [{ api: 'hello', stage: 'prod' }],
            mtls: { truststore: join(certs, 'ca.pem'), mode: 'optional', upstreamHeaders: { 'X-Client-Subject': 'subjectDN' } },
          },
        ],
      },
      { httpsListen: { host: '127.0.0.1', port: 0 } },
    );
    const port = new URL(gw.gateway.httpsUrl!).port;
    const url = `https://localhost:${port}/hi`;
    const base = ['-sS', '--resolve', `localhost:${port}:127.0.0.1`, '--cacert', join(certs, 'ca.pem')];
    assert.equal((await exec('curl', [...base, url])).stdout, 'hello anonymous');
    const mtls = await exec('curl', [...base, '--cert', join(certs, 'client-alice.pem'), '--key', join(certs, 'client-alice-key.pem'), url]);
    assert.equal(mtls.stdout, 'hello CN=alice');

    // Days to expiry of the served certificate and of the truststore are metrics (825 and 3650 days here).
    const metrics = await request(gw.adminUrl, '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(metrics.status, 200);
    const days = (what: string) => Number(new RegExp(`^portcullis_certificate_expiry_days\\{[^}]*certificate="${what}"[^}]*\\} (\\S+)$`, 'm').exec(metrics.body)?.[1]);
    assert.ok(days('server') > 820 && days('server') <= 825, metrics.body);
    assert.ok(days('truststore') > 3640 && days('truststore') <= 3650, metrics.body);
  });
});

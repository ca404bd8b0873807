// The HTTPS listener on its own: invalid new material is rejected with a clear message while the old
// certificate keeps serving; days to expiry reach the observer and the logs (injected clock).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { createFakeClock } from '../core/clock.ts';
import { createLogger } from '../observe/logger.ts';
import { DomainSchema } from '../config/tls-schema.ts';
import { createCa, issueCertificate, type Pem } from './dev-certs.ts';
import { createHttpsListener, type HttpsListener } from './https-listener.ts';

let dir: string;
let ca: Pem;
let listener: HttpsListener;
let port: number;
const lines: Array<Record<string, unknown>> = [];
const expiry: Array<[string, string, number]> = [];
const clock = createFakeClock(Date.now());

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-listener-'));
  ca = await createCa('Listener CA');
  const sink = new PassThrough();
  sink.on('data', (c: Buffer) => {
    for (const l of c.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
  });
  listener = createHttpsListener({
    handler: (_req, res, conn) => res.end(conn.domain),
    logger: createLogger({ level: 'info', destination: { stream: sink } }),
    clock,
    expiryWarningDays: 30,
    onExpiry: (d, what, days) => expiry.push([d, what, days]),
    watchFiles: false,
  });
  port = (await listener.listen('127.0.0.1', 0)).port;
});

after(async () => {
  await listener.drain(1000);
  await rm(dir, { recursive: true, force: true });
});

function peerFingerprint(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca: ca.cert }, () => {
      resolve(s.getPeerX509Certificate()!.fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}

test('loads, refuses invalid replacements with a clear message, and reports expiry', async () => {
  const pem = await issueCertificate(ca, { commonName: 'x.test', dnsNames: ['x.test'], usage: 'server', notAfter: new Date(clock.now() + 10 * 86_400_000) });
  const cert = join(dir, 'x.pem');
  const key = join(dir, 'x-key.pem');
  await writeFile(cert, pem.cert);
  await writeFile(key, pem.key);
  const domain = DomainSchema.parse({ name: 'x.test', certificate: { cert, key } });
  await listener.configure([domain]);
  const good = new X509Certificate(pem.cert).fingerprint256;
  assert.equal(await peerFingerprint('x.test'), good);

  // Expiry: about 10 days, under the 30-day threshold: a metric value and a warning.
  const [d, what, days] = expiry.at(-1)!;
  assert.deepEqual([d, what], ['x.test', 'server']);
  assert.ok(days > 9 && days <= 10, String(days));
  await new Promise((r) => setImmediate(r));
  assert.ok(lines.some((l) => l.level === 'warn' && /certificate of x.test expires in 9 days/.test(String(l.msg))));

  // A key that belongs to another certificate: rejected, the old pair keeps serving.
  const other = await issueCertificate(ca, { commonName: 'x.test', dnsNames: ['x.test'], usage: 'server' });
  await writeFile(key, other.key);
  await listener.reload();
  assert.equal(await peerFingerprint('x.test'), good);
  await new Promise((r) => setImmediate(r));
  const err = lines.find((l) => l.level === 'error' && String(l.msg).includes('does not belong to the certificate'));
  assert.ok(err, JSON.stringify(lines));
  assert.match(String(err.msg), /the previous certificate keeps serving/);

  // A certificate for another name is refused too.
  const wrong = await issueCertificate(ca, { commonName: 'y.test', dnsNames: ['y.test'], usage: 'server' });
  await writeFile(cert, wrong.cert);
  await writeFile(key, wrong.key);
  await listener.reload();
  assert.equal(await peerFingerprint('x.test'), good);
  await new Promise((r) => setImmediate(r));
  assert.ok(lines.some((l) => String(l.msg).includes('is not valid for x.test')));

  // Expired, by moving the clock: the log says so.
  await writeFile(cert, pem.cert);
  await writeFile(key, pem.key);
  clock.advance(11 * 86_400_000);
  await listener.reload();
  await new Promise((r) => setImmediate(r));
  assert.ok(expiry.at(-1)![2] < 0, JSON.stringify(expiry));
  assert.ok(lines.some((l) => l.level === 'warn' && /certificate of x.test has expired/.test(String(l.msg))));
});

test('a domain removed from the definition is no longer served', async () => {
  await listener.configure([]);
  await assert.rejects(peerFingerprint('x.test'), /unrecognized name|ECONNRESET/i);
  assert.deepEqual(listener.served(), []);
});

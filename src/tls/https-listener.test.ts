// The HTTPS listener on its own: invalid new material is rejected with a clear message while the old
// certificate keeps serving; days to expiry reach the observer and the logs (injected clock).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
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

test('plain HTTP sent to the HTTPS port gets a 400 with a complete JSON body (a real HTTP client)', async () => {
  const http = await import('node:http');
  const res = await new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/', agent: false }, (r) => {
        let body = '';
        r.on('data', (c: Buffer) => (body += c));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, type: r.headers['x-amzn-errortype'] as string | undefined, body }));
      })
      .on('error', reject);
  });
  assert.equal(res.status, 400);
  assert.equal(res.type, 'BadRequestException');
  assert.deepEqual(JSON.parse(res.body), { message: 'Plain HTTP sent to an HTTPS port' });
});

test('a client that sends no SNI (it dialled an IP address) gets the domain named by the local address', async () => {
  const pem = await issueCertificate(ca, { commonName: '127.0.0.1', ips: ['127.0.0.1'], usage: 'server' });
  const cert = join(dir, 'ip.pem');
  const key = join(dir, 'ip-key.pem');
  await writeFile(cert, pem.cert);
  await writeFile(key, pem.key);
  await listener.configure([DomainSchema.parse({ name: '127.0.0.1', certificate: { cert, key } })]);
  const served = await new Promise<string>((resolve, reject) => {
    // Node sends no SNI for an IP address host.
    const s = tls.connect({ host: '127.0.0.1', port, ca: ca.cert }, () => {
      s.write('GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n');
    });
    let out = '';
    s.on('data', (c: Buffer) => (out += c));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
  assert.match(served, /^HTTP\/1\.1 200/);
  assert.match(served, /\r\n\r\n127\.0\.0\.1$/);
  await listener.configure([]);
});

test('the handshake timeout does not end an established connection whose response is slow', async () => {
  const slow = createHttpsListener({
    // Answers later than the handshake timeout: the connection must stay up (the integration timeout governs).
    handler: (_req, res) => void setTimeout(() => res.end('late'), 2500),
    logger: createLogger({ level: 'silent' }),
    clock,
    handshakeTimeoutMs: 1500,
    watchFiles: false,
  });
  try {
    const pem = await issueCertificate(ca, { commonName: 's.test', dnsNames: ['s.test'], usage: 'server' });
    const cert = join(dir, 's.pem');
    const key = join(dir, 's-key.pem');
    await writeFile(cert, pem.cert);
    await writeFile(key, pem.key);
    await slow.configure([DomainSchema.parse({ name: 's.test', certificate: { cert, key } })]);
    const slowPort = (await slow.listen('127.0.0.1', 0)).port;
    const https = await import('node:https');
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get({ host: '127.0.0.1', port: slowPort, servername: 's.test', headers: { host: 's.test' }, ca: ca.cert, agent: false }, (r) => {
          let b = '';
          r.on('data', (c: Buffer) => (b += c));
          r.on('end', () => resolve(b));
        })
        .on('error', reject);
    });
    assert.equal(body, 'late');
  } finally {
    await slow.drain(1000);
  }
});

test('idle connections are closed after keepAliveTimeoutMs: HTTP/1.1 and HTTP/2 sessions without streams', async () => {
  const idle = createHttpsListener({ handler: (_req, res) => res.end('ok'), logger: createLogger({ level: 'silent' }), clock, keepAliveTimeoutMs: 300, watchFiles: false });
  try {
    const pem = await issueCertificate(ca, { commonName: 'i.test', dnsNames: ['i.test'], usage: 'server' });
    const cert = join(dir, 'i.pem');
    const key = join(dir, 'i-key.pem');
    await writeFile(cert, pem.cert);
    await writeFile(key, pem.key);
    await idle.configure([DomainSchema.parse({ name: 'i.test', certificate: { cert, key } })]);
    const idlePort = (await idle.listen('127.0.0.1', 0)).port;

    // HTTP/1.1: the server ends the kept-alive connection (the test waits for that, not for a duration).
    const closed = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: idlePort, servername: 'i.test', ca: ca.cert, ALPNProtocols: ['http/1.1'] }, () => {
        s.write('GET / HTTP/1.1\r\nhost: i.test\r\n\r\n');
      });
      let out = '';
      s.on('data', (c: Buffer) => (out += c));
      s.on('close', () => resolve(out));
      s.on('error', reject);
    });
    assert.match(closed, /^HTTP\/1\.1 200/);

    const http2 = await import('node:http2');
    const session = http2.connect(`https://127.0.0.1:${idlePort}`, { ca: ca.cert, servername: 'i.test' });
    const sessionClosed = new Promise<void>((resolve) => session.once('close', () => resolve()));
    const stream = session.request({ ':path': '/', ':authority': 'i.test' });
    stream.resume();
    stream.end();
    await new Promise((r) => stream.once('close', r));
    await sessionClosed;
    assert.equal(session.destroyed, true);
  } finally {
    await idle.drain(1000);
  }
});

test('a private key readable by other users is served with a warning that names it', async () => {
  const pem = await issueCertificate(ca, { commonName: 'k.test', dnsNames: ['k.test'], usage: 'server' });
  const cert = join(dir, 'k.pem');
  const key = join(dir, 'k-key.pem');
  await writeFile(cert, pem.cert);
  await writeFile(key, pem.key);
  await chmod(key, 0o644);
  const from = lines.length;
  await listener.configure([DomainSchema.parse({ name: 'k.test', certificate: { cert, key } })]);
  await new Promise((r) => setImmediate(r));
  assert.ok(lines.slice(from).some((l) => l.level === 'warn' && l.msg === `the private key ${key} is readable by other users (mode 0644); chmod 600 it`), JSON.stringify(lines.slice(from)));
  assert.equal(await peerFingerprint('k.test'), new X509Certificate(pem.cert).fingerprint256);
  await chmod(key, 0o600);
  const again = lines.length;
  await listener.reload();
  await new Promise((r) => setImmediate(r));
  assert.ok(!lines.slice(again).some((l) => String(l.msg).includes('readable by other users')));
  await listener.configure([]);
});

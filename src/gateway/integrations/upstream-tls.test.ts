// TLS settings towards upstreams: verification unless explicitly turned off (and then reported), files
// checked at compile time with messages that name them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpstreamTlsSchema } from '../../config/tls-schema.ts';
import { createCa, issueCertificate } from '../../tls/dev-certs.ts';
import { createUpstreamPools } from './upstream-pools.ts';
import { resolveUpstreamTls } from './upstream-tls.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-utls-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('verification is the default; the opt-out is reported when its pool is created', async () => {
  assert.equal(resolveUpstreamTls(UpstreamTlsSchema.parse({}), 'https://up.test').rejectUnauthorized, true);
  const insecure: string[] = [];
  const pools = createUpstreamPools({ onInsecure: (origin) => insecure.push(origin) });
  try {
    pools.get('https://a.test:8443', undefined, resolveUpstreamTls(UpstreamTlsSchema.parse({}), 'https://a.test:8443'));
    assert.deepEqual(insecure, []);
    const off = resolveUpstreamTls(UpstreamTlsSchema.parse({ insecureSkipVerification: true }), 'https://b.test:8443');
    assert.equal(off.rejectUnauthorized, false);
    pools.get('https://b.test:8443', undefined, off);
    assert.deepEqual(insecure, ['https://b.test:8443']);
  } finally {
    await pools.close();
  }
});

test('settings for a plain http upstream, a key of another certificate, or a file that is not PEM are refused with the path', async () => {
  assert.throws(() => resolveUpstreamTls(UpstreamTlsSchema.parse({}), 'http://up.test'), /tls settings apply to https upstreams; http:\/\/up\.test is not one/);
  const ca = await createCa('Upstream CA');
  const [one, two] = await Promise.all([
    issueCertificate(ca, { commonName: 'gw', usage: 'client' }),
    issueCertificate(ca, { commonName: 'gw', usage: 'client' }),
  ]);
  const cert = join(dir, 'client.pem');
  const key = join(dir, 'other-key.pem');
  const notPem = join(dir, 'ca.txt');
  await writeFile(cert, one.cert);
  await writeFile(key, two.key);
  await writeFile(notPem, 'hello');
  assert.throws(() => resolveUpstreamTls(UpstreamTlsSchema.parse({ cert, key }), 'https://up.test'), new RegExp(`the upstream client key ${key} does not belong to ${cert}`));
  assert.throws(() => resolveUpstreamTls(UpstreamTlsSchema.parse({ ca: notPem }), 'https://up.test'), new RegExp(`upstream CA bundle ${notPem} holds no PEM certificate`));
  assert.throws(() => UpstreamTlsSchema.parse({ cert }), /cert and key go together/);
});

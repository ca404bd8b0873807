// Truststore certificates below AWS's algorithm rules (SHA-256+, RSA-2048+, ECDSA-256+) are reported with
// a warning that names the file and the certificate; the domain is still served, as AWS accepts them with warnings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { DomainSchema } from '../config/tls-schema.ts';
import { createCa, issueCertificate } from './dev-certs.ts';
import { loadDomainMaterial, weakness } from './domain-material.ts';

const caExtensions = [
  { name: 'basicConstraints' as const, cA: true, critical: true },
  { name: 'keyUsage' as const, keyCertSign: true, cRLSign: true, critical: true },
];

test('weak truststore CAs: SHA-1 signatures and short RSA keys are named; SHA-256 with RSA-2048 or P-256 pass', async () => {
  const sha1 = await generate([{ name: 'commonName', value: 'Old CA' }], { keyType: 'rsa', keySize: 2048, algorithm: 'sha1', extensions: caExtensions });
  const short = await generate([{ name: 'commonName', value: 'Small CA' }], { keyType: 'rsa', keySize: 1024, algorithm: 'sha256', extensions: caExtensions });
  const good = await generate([{ name: 'commonName', value: 'Good CA' }], { keyType: 'rsa', keySize: 2048, algorithm: 'sha256', extensions: caExtensions });
  assert.equal(weakness(new X509Certificate(sha1.cert)), 'is signed with sha1WithRSAEncryption');
  assert.equal(weakness(new X509Certificate(short.cert)), 'has a 1024-bit RSA key');
  assert.equal(weakness(new X509Certificate(good.cert)), undefined);
  assert.equal(weakness(new X509Certificate((await createCa('EC CA')).cert)), undefined);

  const dir = await mkdtemp(join(tmpdir(), 'portcullis-material-'));
  try {
    const ca = await createCa('Server CA');
    const server = await issueCertificate(ca, { commonName: 'w.test', dnsNames: ['w.test'], usage: 'server' });
    const files = { cert: join(dir, 's.pem'), key: join(dir, 's-key.pem'), truststore: join(dir, 'trust.pem') };
    await writeFile(files.cert, server.cert);
    await writeFile(files.key, server.key, { mode: 0o600 });
    await writeFile(files.truststore, sha1.cert + good.cert);
    const material = await loadDomainMaterial(
      DomainSchema.parse({ name: 'w.test', certificate: { cert: files.cert, key: files.key }, mtls: { truststore: files.truststore } }),
      ['http/1.1'],
    );
    assert.deepEqual(material.warnings, [
      `truststore ${files.truststore}: CN=Old CA is signed with sha1WithRSAEncryption (AWS requires SHA-256 or stronger, RSA-2048 or stronger, ECDSA-256 or stronger)`,
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

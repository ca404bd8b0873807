import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createCa, issueCertificate } from './dev-certs.ts';
import { colonHex, describeClientCert, distinguishedName } from './client-cert.ts';

test('client certificates are described as AWS does ($context.identity.clientCert)', async () => {
  const ca = await createCa('Unit CA');
  const pem = await issueCertificate(ca, {
    commonName: 'client-7',
    organization: 'Pets',
    usage: 'client',
    uris: ['spiffe://pets/client-7'],
    emails: ['ops@pets.test'],
    notBefore: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
    notAfter: new Date(Date.UTC(2027, 4, 6, 7, 8, 9)),
  });
  const info = describeClientCert(new X509Certificate(pem.cert));
  assert.equal(info.subjectDN, 'CN=client-7,O=Pets');
  assert.equal(info.issuerDN, 'CN=Unit CA,O=Portcullis');
  assert.match(info.serialNumber, /^[0-9a-f]{2}(:[0-9a-f]{2})*$/);
  assert.equal(info.validity.notBefore, 'Jan  2 03:04:05 2026 GMT');
  assert.equal(info.validity.notAfter, 'May  6 07:08:09 2027 GMT');
  assert.deepEqual(info.subjectAlternativeNames, ['URI:spiffe://pets/client-7', 'email:ops@pets.test']);
  assert.equal(info.clientCertPem, new X509Certificate(pem.cert).toString());
});

test('helpers', () => {
  assert.equal(colonHex('A1B2C'), '0a:1b:2c');
  assert.equal(distinguishedName('C=US\nO=Org\nCN=x'), 'CN=x,O=Org,C=US');
});

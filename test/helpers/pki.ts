// Test PKI on disk: a CA, server certificates for two domains, and client certificates (valid, expired,
// from a foreign CA, with the wrong key usage, revoked) plus a CRL made with `openssl ca`.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createCa, issueCertificate, type Pem } from '../../src/tls/dev-certs.ts';

const run = promisify(execFile);

export interface PkiFiles {
  readonly dir: string;
  readonly caCert: string;
  readonly ca: Pem;
  readonly server: Record<'a' | 'b', { cert: string; key: string }>;
  readonly clients: Record<'valid' | 'expired' | 'foreign' | 'wrongUsage' | 'revoked', Pem>;
  readonly truststore: string;
  readonly crl: string;
  /** Writes a PEM pair under dir and returns the paths. */
  write(name: string, pem: Pem): Promise<{ cert: string; key: string }>;
}

export async function createPki(dir: string): Promise<PkiFiles> {
  await mkdir(dir, { recursive: true });
  const write = async (name: string, pem: Pem) => {
    const cert = join(dir, `${name}.pem`);
    const key = join(dir, `${name}-key.pem`);
    await writeFile(cert, pem.cert);
    // Private keys: owner-only, as the gateway expects (it warns otherwise).
    await writeFile(key, pem.key, { mode: 0o600 });
    return { cert, key };
  };
  const ca = await createCa('Test CA');
  const foreignCa = await createCa('Foreign CA');
  const day = 86_400_000;
  const [sa, sb, valid, expired, foreign, wrongUsage, revoked] = await Promise.all([
    issueCertificate(ca, { commonName: 'a.test', dnsNames: ['a.test'], usage: 'server' }),
    issueCertificate(ca, { commonName: 'b.test', dnsNames: ['b.test', 'c.test'], ips: ['127.0.0.1'], usage: 'server' }),
    issueCertificate(ca, { commonName: 'client-1', organization: 'Pets', uris: ['spiffe://test/client-1'], usage: 'client' }),
    issueCertificate(ca, { commonName: 'old-client', usage: 'client', notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) }),
    issueCertificate(foreignCa, { commonName: 'stranger', usage: 'client' }),
    issueCertificate(ca, { commonName: 'server-as-client', usage: 'client', wrongUsage: true }),
    issueCertificate(ca, { commonName: 'revoked-client', usage: 'client' }),
  ]);
  const caFiles = await write('ca', ca);
  const server = { a: await write('server-a', sa), b: await write('server-b', sb) };
  await write('revoked', revoked);
  const crl = await makeCrl(dir, caFiles, join(dir, 'revoked.pem'));
  return {
    dir,
    caCert: caFiles.cert,
    ca,
    server,
    clients: { valid, expired, foreign, wrongUsage, revoked },
    truststore: caFiles.cert,
    crl,
    write,
  };
}

/** A CRL signed by the CA that lists `revokedCert` (openssl ca keeps its state in a tiny database). */
async function makeCrl(dir: string, ca: { cert: string; key: string }, revokedCert: string): Promise<string> {
  const db = join(dir, 'ca-db');
  await mkdir(db, { recursive: true });
  await writeFile(join(db, 'index.txt'), '');
  await writeFile(join(db, 'crlnumber'), '01\n');
  const config = join(db, 'openssl.cnf');
  await writeFile(
    config,
    `[ ca ]\ndefault_ca = test\n[ test ]\ndatabase = ${db}/index.txt\ncrlnumber = ${db}/crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\n`,
  );
  await run('openssl', ['ca', '-config', config, '-revoke', revokedCert, '-keyfile', ca.key, '-cert', ca.cert]);
  const out = join(dir, 'crl.pem');
  await run('openssl', ['ca', '-config', config, '-gencrl', '-keyfile', ca.key, '-cert', ca.cert, '-out', out]);
  return out;
}

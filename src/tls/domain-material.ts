// Reads and checks a custom domain's TLS files (certificate chain, key, truststore, CRL) and turns them
// into TLS server options. Anything wrong is one clear Error; the caller keeps serving the old material.
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { DomainDefinition } from '../config/tls-schema.ts';
import { SECURITY_POLICY_SETTINGS } from './security-policies.ts';

export interface DomainMaterial {
  /** Hash of every file's content and of the settings: equal material needs no new TLS server. */
  readonly fingerprint: string;
  readonly options: tls.TlsOptions;
  readonly certificate: X509Certificate;
  /** Earliest notAfter across the served chain (ms since epoch). */
  readonly certNotAfter: number;
  /** Earliest notAfter in the truststore, when mTLS is on. */
  readonly truststoreNotAfter: number | undefined;
  /** Absolute paths of the files read (watched for changes). */
  readonly files: readonly string[];
  /** Problems worth a warning that do not stop serving (a private key readable by other users). */
  readonly warnings: readonly string[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export function splitPemCertificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? [];
  if (blocks.length === 0) throw new Error(`${what} holds no PEM certificate`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new Error(`${what}: certificate ${i + 1} does not parse (${(err as Error).message})`);
    }
  });
}

export async function loadDomainMaterial(domain: DomainDefinition, alpn: readonly string[]): Promise<DomainMaterial> {
  const files: string[] = [];
  const hash = createHash('sha256').update(JSON.stringify(domain));
  const read = async (path: string, what: string): Promise<string> => {
    const abs = resolve(path);
    files.push(abs);
    let text: string;
    try {
      text = await readFile(abs, 'utf8');
    } catch (err) {
      throw new Error(`${what} ${abs} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    hash.update(abs).update('\0').update(text).update('\0');
    return text;
  };

  const certPem = await read(domain.certificate.cert, 'certificate file');
  const keyPem = await read(domain.certificate.key, 'key file');
  const chain = splitPemCertificates(certPem, `certificate file ${resolve(domain.certificate.cert)}`);
  const warnings: string[] = [];
  const keyMode = process.platform === 'win32' ? 0 : ((await stat(resolve(domain.certificate.key)).catch(() => undefined))?.mode ?? 0) & 0o777;
  if (keyMode & 0o077) {
    warnings.push(`the private key ${resolve(domain.certificate.key)} is readable by other users (mode ${keyMode.toString(8).padStart(4, '0')}); chmod 600 it`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    throw new Error(`key file ${resolve(domain.certificate.key)} holds no usable private key (${(err as Error).message})`);
  }
  if (!chain[0].checkPrivateKey(key)) {
    throw new Error(`the key in ${resolve(domain.certificate.key)} does not belong to the certificate in ${resolve(domain.certificate.cert)}`);
  }
  const covered = domain.name.startsWith('*.')
    ? chain[0].checkHost(`x${domain.name.slice(1)}`)
    : isIP(domain.name) ? chain[0].checkIP(domain.name) : chain[0].checkHost(domain.name);
  if (covered === undefined) {
    throw new Error(`the certificate in ${resolve(domain.certificate.cert)} is not valid for ${domain.name} (subject ${chain[0].subject.replaceAll('\n', ', ')}, SANs ${chain[0].subjectAltName ?? 'none'})`);
  }
  const policy = SECURITY_POLICY_SETTINGS[domain.securityPolicy];
  const options: tls.TlsOptions = {
    cert: certPem,
    key: keyPem,
    minVersion: policy.minVersion,
    maxVersion: policy.maxVersion,
    ciphers: policy.ciphers,
    honorCipherOrder: true,
    ALPNProtocols: [...alpn],
  };

  let truststoreNotAfter: number | undefined;
  if (domain.mtls) {
    const storePem = await read(domain.mtls.truststore, 'truststore');
    const store = splitPemCertificates(storePem, `truststore ${resolve(domain.mtls.truststore)}`);
    for (const c of store) {
      if (!c.ca) throw new Error(`truststore ${resolve(domain.mtls.truststore)}: ${c.subject.replaceAll('\n', ', ')} is not a CA certificate`);
      const weak = weakness(c);
      // AWS accepts such a truststore with a warning; OpenSSL's security level may then refuse its clients.
      if (weak) warnings.push(`truststore ${resolve(domain.mtls.truststore)}: ${c.subject.replaceAll('\n', ', ')} ${weak} (AWS requires SHA-256 or stronger, RSA-2048 or stronger, ECDSA-256 or stronger)`);
    }
    truststoreNotAfter = Math.min(...store.map((c) => Date.parse(c.validTo)));
    options.ca = storePem;
    options.requestCert = true;
    options.rejectUnauthorized = domain.mtls.mode === 'required';
    if (domain.mtls.crl) {
      const crl = await read(domain.mtls.crl, 'CRL file');
      if (!crl.includes('-----BEGIN X509 CRL-----')) throw new Error(`CRL file ${resolve(domain.mtls.crl)} holds no PEM CRL`);
      options.crl = crl;
    }
  }
  try {
    // OpenSSL has the last word (key type against the ciphers, CRL syntax...).
    tls.createSecureContext(options);
  } catch (err) {
    throw new Error(`TLS settings for ${domain.name} are refused by OpenSSL: ${(err as Error).message}`);
  }
  return Object.freeze({
    fingerprint: hash.digest('hex'),
    options,
    certificate: chain[0],
    certNotAfter: Math.min(...chain.map((c) => Date.parse(c.validTo))),
    truststoreNotAfter,
    files: Object.freeze(files),
    warnings: Object.freeze(warnings),
  });
}

// Signature algorithms below AWS's truststore rule (SHA-256 or stronger): MD2, MD5 and SHA-1 based.
const WEAK_SIGNATURES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.3.14.3.2.29': 'sha1WithRSASignature',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-SHA1',
};

/** Why a truststore certificate falls below AWS's algorithm rules, or undefined. */
export function weakness(cert: X509Certificate): string | undefined {
  const oid = signatureAlgorithmOid(cert.raw);
  if (oid !== undefined && WEAK_SIGNATURES[oid]) return `is signed with ${WEAK_SIGNATURES[oid]}`;
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) < 2048) return `has a ${details?.modulusLength}-bit RSA key`;
  if (key.asymmetricKeyType === 'ec' && !['prime256v1', 'secp384r1', 'secp521r1'].includes(details?.namedCurve ?? '')) return `has an EC key on ${details?.namedCurve}`;
  if (key.asymmetricKeyType === 'dsa') return 'has a DSA key';
  return undefined;
}

/** RFC 5280 §4.1: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm SEQUENCE { OID, ... }, ... }. */
function signatureAlgorithmOid(der: Buffer): string | undefined {
  const header = (at: number): { start: number; end: number } | undefined => {
    if (at + 2 > der.length) return undefined;
    let len = der[at + 1];
    let start = at + 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || start + n > der.length) return undefined;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[start + i];
      start += n;
    }
    return start + len <= der.length ? { start, end: start + len } : undefined;
  };
  const cert = header(0);
  const tbs = cert && header(cert.start);
  const alg = tbs && header(tbs.end);
  const oid = alg && der[alg.start] === 0x06 ? header(alg.start) : undefined;
  if (!oid || oid.end === oid.start) return undefined;
  const parts = [Math.floor(der[oid.start] / 40), der[oid.start] % 40];
  let v = 0;
  for (let i = oid.start + 1; i < oid.end; i++) {
    v = v * 128 + (der[i] & 0x7f);
    if (!(der[i] & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

// Generates development certificates (a local CA, server and client certificates) with selfsigned, for
// `portcullis certs dev` and the tests. ECDSA P-256 and SHA-256: fast, and accepted by AWS's rules.
// selfsigned (with @peculiar/x509, asn1js and reflect-metadata) is loaded on first use: the CLI module that
// offers `certs dev` is part of every `portcullis serve`, which never generates a certificate.
const generate: typeof import('selfsigned').generate = async (...args) => (await import('selfsigned')).generate(...args);

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export interface IssueOptions {
  readonly commonName: string;
  /** DNS names and IP addresses. */
  readonly dnsNames?: readonly string[];
  readonly ips?: readonly string[];
  /** Other SANs: URIs (spiffe://...) and e-mail addresses. */
  readonly uris?: readonly string[];
  readonly emails?: readonly string[];
  readonly usage: 'server' | 'client';
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  /** Test only: the opposite extended key usage (a server certificate offered as a client one...). */
  readonly wrongUsage?: boolean;
  readonly organization?: string;
}

const DAY = 86_400_000;

export async function createCa(commonName = 'Portcullis Development CA', days = 3650): Promise<Pem> {
  const now = Date.now();
  const pems = await generate([{ name: 'organizationName', value: 'Portcullis' }, { name: 'commonName', value: commonName }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY),
    notAfterDate: new Date(now + days * DAY),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return pemPair(pems.cert, pems.private);
}

/** PEM blocks end with a newline, so files can be concatenated into chains and bundles. */
function pemPair(cert: string, key: string): Pem {
  const nl = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
  return { cert: nl(cert.replaceAll('\r\n', '\n')), key: nl(key.replaceAll('\r\n', '\n')) };
}

export async function issueCertificate(ca: Pem, options: IssueOptions): Promise<Pem> {
  const now = Date.now();
  const server = options.usage === 'server' ? !options.wrongUsage : !!options.wrongUsage;
  const altNames = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 2 as const, value })),
    ...(options.ips ?? []).map((ip) => ({ type: 7 as const, ip })),
    ...(options.uris ?? []).map((value) => ({ type: 6 as const, value })),
    ...(options.emails ?? []).map((value) => ({ type: 1 as const, value })),
  ];
  // Conventional RDN order (O before CN), so the RFC 4514 string reads CN=...,O=...
  const attrs = [{ name: 'commonName', value: options.commonName }];
  if (options.organization) attrs.unshift({ name: 'organizationName', value: options.organization });
  const pems = await generate(attrs, {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: { key: ca.key, cert: ca.cert },
    notBeforeDate: options.notBefore ?? new Date(now - DAY),
    notAfterDate: options.notAfter ?? new Date(now + 825 * DAY),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: false, critical: true },
      { name: 'extKeyUsage', serverAuth: server, clientAuth: !server },
      ...(altNames.length ? [{ name: 'subjectAltName' as const, altNames }] : []),
    ],
  });
  return pemPair(pems.cert, pems.private);
}

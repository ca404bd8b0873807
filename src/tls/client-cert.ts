// The verified client certificate in AWS's shape ($context.identity.clientCert.*), plus its SANs, and
// the facts about one TLS connection that the dispatcher needs.
import type { X509Certificate } from 'node:crypto';
import type { ClientCertInfo } from '../gateway/pipeline/context.ts';

export interface VerifiedClientCert extends ClientCertInfo {
  /** Subject alternative names as Node prints them ("DNS:a", "URI:spiffe://...", "IP Address:10.0.0.1"). */
  readonly subjectAlternativeNames: readonly string[];
}

/** What the HTTPS listener knows about a connection; undefined for plain HTTP. */
export interface ConnectionInfo {
  readonly secure: true;
  /** The custom domain selected by SNI. */
  readonly domain: string;
  readonly tlsVersion: string;
  readonly cipherSuite: string;
  /** Present only when the client presented a certificate that verified against the domain's truststore. */
  readonly clientCert: VerifiedClientCert | undefined;
}

/** RFC 4514 order (most specific first) and separators, as AWS prints DNs: CN=client,O=Example,C=US. */
export function distinguishedName(nodeDn: string): string {
  return nodeDn.split('\n').filter(Boolean).reverse().join(',');
}

/** AWS prints serial numbers as lower-case colon-separated hex bytes. */
export function colonHex(hex: string): string {
  const h = (hex.length % 2 ? '0' + hex : hex).toLowerCase();
  return h.match(/../g)!.join(':');
}

export function describeClientCert(cert: X509Certificate): VerifiedClientCert {
  const san = cert.subjectAltName;
  return Object.freeze({
    clientCertPem: cert.toString(),
    subjectDN: distinguishedName(cert.subject),
    issuerDN: distinguishedName(cert.issuer),
    serialNumber: colonHex(cert.serialNumber),
    // Node prints OpenSSL's ASN1_TIME form ("May 28 12:30:02 2019 GMT"), the format AWS uses.
    validity: Object.freeze({ notBefore: cert.validFrom, notAfter: cert.validTo }),
    subjectAlternativeNames: Object.freeze(san ? splitSan(san) : []),
  });
}

/** Exactly AWS's clientCert object (authorizer events): without the SANs this gateway adds. */
export function awsClientCert(cert: ClientCertInfo): ClientCertInfo {
  const { clientCertPem, subjectDN, issuerDN, serialNumber, validity } = cert;
  return { clientCertPem, subjectDN, issuerDN, serialNumber, validity: { notBefore: validity.notBefore, notAfter: validity.notAfter } };
}

/** Node joins SANs with ", "; quoted values (names containing ", ") are JSON strings. */
function splitSan(san: string): string[] {
  const out: string[] = [];
  const re = /([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(san)) !== null && m[0] !== '') {
    out.push(`${m[1]}:${m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2]}`);
  }
  return out;
}

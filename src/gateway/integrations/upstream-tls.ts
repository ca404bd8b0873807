// TLS towards an https upstream (integration.tls): a CA bundle instead of the system CAs, a client
// certificate for backend mTLS, and the explicit development opt-out of verification. Files are read
// and checked when the revision compiles, so a bad file is a deploy problem, not a failing request.
import { createHash, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import tls from 'node:tls';
import type { UpstreamTls } from '../../config/tls-schema.ts';
import { splitPemCertificates } from '../../tls/domain-material.ts';

export interface ResolvedUpstreamTls {
  /** Distinguishes pools: equal settings and file contents share one. */
  readonly id: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

export function resolveUpstreamTls(settings: UpstreamTls, origin: string): ResolvedUpstreamTls {
  if (!origin.startsWith('https:')) throw new Error(`tls settings apply to https upstreams; ${origin} is not one`);
  const hash = createHash('sha256').update(JSON.stringify(settings));
  const read = (path: string, what: string) => {
    const abs = resolve(path);
    try {
      const text = readFileSync(abs, 'utf8');
      hash.update(text);
      return text;
    } catch (err) {
      throw new Error(`upstream ${what} ${abs} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const out: { -readonly [K in keyof ResolvedUpstreamTls]?: ResolvedUpstreamTls[K] } = {
    rejectUnauthorized: !settings.insecureSkipVerification,
    servername: settings.servername,
  };
  if (settings.ca) {
    out.ca = read(settings.ca, 'CA bundle');
    splitPemCertificates(out.ca, `upstream CA bundle ${resolve(settings.ca)}`);
  }
  if (settings.cert && settings.key) {
    out.cert = read(settings.cert, 'client certificate');
    out.key = read(settings.key, 'client key');
    const [leaf] = splitPemCertificates(out.cert, `upstream client certificate ${resolve(settings.cert)}`);
    if (!leaf.checkPrivateKey(createPrivateKey(out.key))) {
      throw new Error(`the upstream client key ${resolve(settings.key)} does not belong to ${resolve(settings.cert)}`);
    }
  }
  try {
    tls.createSecureContext({ ca: out.ca, cert: out.cert, key: out.key });
  } catch (err) {
    throw new Error(`upstream TLS settings are refused by OpenSSL: ${(err as Error).message}`);
  }
  out.id = hash.digest('hex').slice(0, 16);
  return Object.freeze(out) as ResolvedUpstreamTls;
}

// Per-request transport facts: the real client address and aws:SecureTransport (trusted proxies), HSTS,
// the plain-HTTP policy of a listener (serve | refuse | redirect), and the verified client certificate
// ($context.identity.clientCert, policy condition keys, upstream headers). Compiled once per snapshot.
import type { IncomingMessage } from 'node:http';
import { deny, type Denial } from '../core/denial.ts';
import type { ClientCertField, HstsSettings } from '../config/tls-schema.ts';
import type { ConnectionInfo, VerifiedClientCert } from '../tls/client-cert.ts';
import { applyGatewayHeaders, type RequestContext } from './pipeline/context.ts';
import type { Snapshot } from './snapshot.ts';
import { createTrustedProxies, normalize, type TrustedProxies } from './trusted-proxies.ts';

export type PlainHttpMode = 'redirect' | 'refuse' | 'serve';

interface PerSnapshot {
  readonly proxies: TrustedProxies;
  readonly hsts: string;
  /** Lower-case names of every configured client-certificate header: removed from every request. */
  readonly certHeaders: readonly string[];
  /** Per domain: header -> field to send upstream. */
  readonly upstreamHeaders: ReadonlyMap<string, ReadonlyArray<readonly [string, ClientCertField]>>;
}

export interface TransportFacts {
  of(snap: Snapshot | undefined, req: IncomingMessage, listenerSecure: boolean): { peer: string; sourceIp: string; secure: boolean; hsts: string };
  /** Writes the redirect itself (returns true), or returns the refusal. */
  refusePlain(ctx: RequestContext, url: string, mode: Exclude<PlainHttpMode, 'serve'>, httpsPort: number | undefined): Denial | undefined;
  applyClientCert(snap: Snapshot, ctx: RequestContext, conn: ConnectionInfo | undefined, domain: string | undefined): void;
}

/** ctx.extensions keys written here (documented in docs/https.md). */
export const CONDITION_KEYS = 'conditionKeys';
/** ctx.extensions key: the custom domain whose truststore verified the client certificate. */
export const TLS_DOMAIN = 'tlsDomain';

const NONE: PerSnapshot = compile(undefined);

export function createTransportFacts(): TransportFacts {
  let lastSnap: Snapshot | undefined;
  let last: PerSnapshot = NONE;
  const compiled = (snap: Snapshot | undefined): PerSnapshot => {
    if (snap !== lastSnap) {
      lastSnap = snap;
      last = compile(snap);
    }
    return last;
  };

  return {
    of(snap, req, listenerSecure) {
      const c = compiled(snap);
      const peer = peerOf(req);
      if (c.proxies.size === 0) return { peer, sourceIp: peer, secure: listenerSecure, hsts: listenerSecure ? c.hsts : '' };
      const facts = c.proxies.resolve(peer, listenerSecure, req.headers['x-forwarded-for'], req.headers['x-forwarded-proto']);
      return { peer, sourceIp: facts.sourceIp, secure: facts.secure, hsts: facts.secure ? c.hsts : '' };
    },
    refusePlain(ctx, url, mode, httpsPort) {
      if (mode === 'refuse') return deny('NO_API', { detail: 'plain HTTP refused on this listener (--http-mode refuse)' });
      const host = ctx.domainName;
      if (host === '' || url.charCodeAt(0) !== 47) return deny('BAD_REQUEST', { detail: 'cannot redirect: no Host or not origin-form' });
      const port = httpsPort === undefined || httpsPort === 443 ? '' : `:${httpsPort}`;
      // 308 keeps the method and body (RFC 9110 §15.4.9), unlike 301/302.
      ctx.res.statusCode = 308;
      applyGatewayHeaders(ctx);
      ctx.res.setHeader('location', `https://${host}${port}${url}`);
      ctx.res.setHeader('content-length', 0);
      ctx.res.setHeader('connection', 'close');
      ctx.res.end();
      return undefined;
    },
    applyClientCert(snap, ctx, conn, domain) {
      const c = compiled(snap);
      const headers = ctx.req.headers;
      for (const name of c.certHeaders) if (headers[name] !== undefined) delete headers[name];
      const cert = conn?.clientCert;
      if (cert === undefined) return;
      ctx.identity.clientCert = cert;
      const keys = ((ctx.extensions[CONDITION_KEYS] as Map<string, unknown> | undefined) ??= new Map<string, unknown>());
      keys.set('portcullis:clientcertsubject', cert.subjectDN);
      keys.set('portcullis:clientcertissuer', cert.issuerDN);
      keys.set('portcullis:clientcertserialnumber', cert.serialNumber);
      keys.set('portcullis:clientcertsan', cert.subjectAlternativeNames);
      if (domain !== undefined) ctx.extensions[TLS_DOMAIN] = domain;
      const wanted = domain === undefined ? undefined : c.upstreamHeaders.get(domain);
      // principalArn is known only after the auth: mtls stage, which sets that header itself.
      if (wanted !== undefined) for (const [name, field] of wanted) if (field !== 'principalArn') headers[name] = certField(cert, field);
    },
  };
}

const kPeer = Symbol('portcullis.peer');
type PeerCarrier = { [kPeer]?: string };

/** The socket's remote address, normalised once per connection (it cannot change). */
function peerOf(req: IncomingMessage): string {
  const socket = req.socket as typeof req.socket & PeerCarrier;
  let peer = socket[kPeer];
  if (peer === undefined) {
    const addr = socket.remoteAddress;
    peer = normalize(addr ?? '');
    // Not cached while unknown (a socket already closed reports no address).
    if (addr !== undefined) socket[kPeer] = peer;
  }
  return peer;
}

function certField(cert: VerifiedClientCert, field: Exclude<ClientCertField, 'principalArn'>): string {
  switch (field) {
    case 'clientCertPem':
      // A PEM has newlines, which no header value may carry; encoded as nginx's $ssl_client_escaped_cert.
      return encodeURIComponent(cert.clientCertPem);
    case 'validity.notBefore':
      return cert.validity.notBefore;
    case 'validity.notAfter':
      return cert.validity.notAfter;
    case 'subjectAlternativeNames':
      return cert.subjectAlternativeNames.join(', ');
    default:
      return cert[field];
  }
}

function compile(snap: Snapshot | undefined): PerSnapshot {
  const settings = snap?.settings;
  const certHeaders = new Set<string>();
  const upstreamHeaders = new Map<string, Array<readonly [string, ClientCertField]>>();
  for (const d of snap?.definition.domains ?? []) {
    if (!d.mtls) continue;
    const list: Array<readonly [string, ClientCertField]> = [];
    for (const [name, field] of Object.entries(d.mtls.upstreamHeaders)) {
      certHeaders.add(name.toLowerCase());
      list.push([name.toLowerCase(), field]);
    }
    upstreamHeaders.set(d.name, list);
  }
  return {
    proxies: createTrustedProxies(settings?.trustedProxies ?? []),
    hsts: settings ? hstsValue(settings.hsts) : '',
    certHeaders: [...certHeaders],
    upstreamHeaders,
  };
}

export function hstsValue(h: HstsSettings): string {
  if (!h.enabled) return '';
  return `max-age=${h.maxAge}${h.includeSubDomains ? '; includeSubDomains' : ''}${h.preload ? '; preload' : ''}`;
}

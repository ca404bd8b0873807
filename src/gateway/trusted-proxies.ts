// Which X-Forwarded-For / X-Forwarded-Proto to believe: only those set by a configured trusted proxy
// (settings.trustedProxies); the client is the right-most address that is not itself a trusted proxy.
import ipaddr from 'ipaddr.js';

export interface ForwardedFacts {
  /** $context.identity.sourceIp / aws:SourceIp. */
  readonly sourceIp: string;
  /** Whether the client's hop was TLS (aws:SecureTransport). */
  readonly secure: boolean;
}

export interface TrustedProxies {
  readonly size: number;
  isTrusted(ip: string): boolean;
  /**
   * peer: the socket's remote address (normalised); secure: whether this listener terminated TLS.
   * xff / xfp: the raw header values (undefined when absent).
   */
  resolve(peer: string, secure: boolean, xff: string | string[] | undefined, xfp: string | string[] | undefined): ForwardedFacts;
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export function createTrustedProxies(cidrs: readonly string[]): TrustedProxies {
  const v4: Range[] = [];
  const v6: Range[] = [];
  for (const c of cidrs) {
    const range: Range = c.includes('/') ? ipaddr.parseCIDR(c) : single(c);
    const [addr, bits] = range;
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) v4.push([(addr as ipaddr.IPv6).toIPv4Address(), Math.max(0, bits - 96)]);
    else (addr.kind() === 'ipv4' ? v4 : v6).push(range);
  }

  function isTrusted(ip: string): boolean {
    if (v4.length + v6.length === 0 || ip === '') return false;
    let addr: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      addr = ipaddr.process(ip);
    } catch {
      return false;
    }
    const list = addr.kind() === 'ipv4' ? v4 : v6;
    for (const [net, bits] of list) if ((addr as ipaddr.IPv4).match(net as ipaddr.IPv4, bits)) return true;
    return false;
  }

  return {
    size: v4.length + v6.length,
    isTrusted,
    resolve(peer, secure, xff, xfp) {
      if (!isTrusted(peer)) return { sourceIp: peer, secure };
      let sourceIp = peer;
      if (xff !== undefined) {
        const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',');
        // Walk from the right: every trusted hop vouches for the one before it; the first untrusted
        // one is the client (anything further left is whatever the client claimed).
        for (let i = hops.length - 1; i >= 0; i--) {
          const hop = normalize(hops[i].trim());
          if (!isIp(hop)) break;
          sourceIp = hop;
          if (!isTrusted(hop)) break;
        }
      }
      let isSecure = secure;
      if (!secure && xfp !== undefined) {
        // The nearest proxy's view is the last value (proxies append).
        const values = (Array.isArray(xfp) ? xfp.join(',') : xfp).split(',');
        isSecure = values[values.length - 1].trim().toLowerCase() === 'https';
      }
      return { sourceIp, secure: isSecure };
    },
  };
}

function single(ip: string): Range {
  const addr = ipaddr.parse(ip);
  return [addr, addr.kind() === 'ipv4' ? 32 : 128];
}

function isIp(s: string): boolean {
  return s !== '' && ipaddr.isValid(s);
}

export function normalize(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

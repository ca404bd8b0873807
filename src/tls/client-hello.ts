// Reads the server name (SNI) from a TLS ClientHello without consuming it, so the HTTPS listener can
// hand the connection to the domain's own TLS server (its certificate, policy and truststore).

export type ClientHelloPeek =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'not-tls' }
  | { readonly kind: 'hello'; readonly servername: string | undefined };

/** Largest ClientHello we wait for (several records are allowed; large post-quantum key shares fit). */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

const INCOMPLETE = { kind: 'incomplete' } as const;
const NOT_TLS = { kind: 'not-tls' } as const;

export function peekClientHello(buf: Buffer): ClientHelloPeek {
  // RFC 8446 §5.1: records of type handshake (22); reassemble their fragments.
  const parts: Buffer[] = [];
  let have = 0;
  let off = 0;
  let need = -1;
  while (off + 5 <= buf.length) {
    if (buf[off] !== 22 || buf[off + 1] !== 3) return NOT_TLS;
    const len = buf.readUInt16BE(off + 3);
    if (len === 0 || len > 16_384 + 256) return NOT_TLS;
    if (off + 5 + len > buf.length) {
      parts.push(buf.subarray(off + 5));
      have += buf.length - off - 5;
      off = buf.length;
      break;
    }
    parts.push(buf.subarray(off + 5, off + 5 + len));
    have += len;
    off += 5 + len;
    if (need === -1 && have >= 4) {
      const hs = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      if (hs[0] !== 1) return NOT_TLS;
      need = 4 + hs.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO_BYTES) return NOT_TLS;
    }
    if (need !== -1 && have >= need) break;
  }
  if (buf.length > 0 && buf[0] !== 22) return NOT_TLS;
  if (need === -1 || have < need) return buf.length >= MAX_CLIENT_HELLO_BYTES ? NOT_TLS : INCOMPLETE;
  const hs = Buffer.concat(parts).subarray(4, need);
  const servername = serverNameOf(hs);
  return servername === null ? NOT_TLS : { kind: 'hello', servername };
}

/** The host_name in a ClientHello body; undefined when absent, null when the message is malformed. */
function serverNameOf(b: Buffer): string | undefined | null {
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > b.length) return null;
  p += 1 + b[p]; // legacy_session_id
  if (p + 2 > b.length) return null;
  p += 2 + b.readUInt16BE(p); // cipher_suites
  if (p + 1 > b.length) return null;
  p += 1 + b[p]; // legacy_compression_methods
  if (p === b.length) return undefined; // no extensions at all
  if (p + 2 > b.length) return null;
  const end = p + 2 + b.readUInt16BE(p);
  if (end > b.length) return null;
  p += 2;
  while (p + 4 <= end) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) return null;
    if (type === 0) {
      // RFC 6066 §3: server_name_list of (name_type, HostName); only host_name (0) exists.
      let q = p + 2;
      const listEnd = Math.min(p + 2 + b.readUInt16BE(p), p + len);
      while (q + 3 <= listEnd) {
        const nameType = b[q];
        const nameLen = b.readUInt16BE(q + 1);
        q += 3;
        if (q + nameLen > listEnd) return null;
        if (nameType === 0) {
          const name = b.toString('latin1', q, q + nameLen).toLowerCase();
          return name.endsWith('.') ? name.slice(0, -1) : name;
        }
        q += nameLen;
      }
      return undefined;
    }
    p += len;
  }
  return undefined;
}

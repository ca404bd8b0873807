// Strict parsers for typed condition values: IPv4/IPv6 addresses and CIDR blocks (IPv4-mapped IPv6 is
// treated as IPv4), W3C ISO 8601 dates and epoch seconds, decimal numbers, booleans and base64.
import ipaddr from 'ipaddr.js';

/** An address: IPv4 as an unsigned 32-bit number, IPv6 as eight 16-bit groups. */
export type IpAddr = { readonly v: 4; readonly n: number } | { readonly v: 6; readonly g: readonly number[] };

export interface Cidr {
  readonly v: 4 | 6;
  /** IPv4: network as uint32. */
  readonly n4: number;
  /** IPv4: mask as uint32. */
  readonly m4: number;
  /** IPv6: network groups and prefix length. */
  readonly g6: readonly number[];
  readonly bits: number;
}

export function parseIPv4(s: string): number | undefined {
  // Hand-rolled: this runs per request (aws:SourceIp) and must not allocate much.
  let n = 0;
  let octet = -1;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (octet < 0 || dots === 3) return undefined;
      n = n * 256 + octet;
      octet = -1;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return undefined; // no leading zeros (010 is octal to some parsers)
      octet = octet < 0 ? c - 48 : octet * 10 + (c - 48);
      if (octet > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || octet < 0) return undefined;
  return n * 256 + octet;
}

export function parseIp(s: string): IpAddr | undefined {
  if (!s.includes(':')) {
    const n = parseIPv4(s);
    return n === undefined ? undefined : { v: 4, n };
  }
  if (s.includes('%') || !ipaddr.IPv6.isValid(s)) return undefined; // zone ids never reach a policy check
  const a = ipaddr.IPv6.parse(s);
  // Security: ::ffff:a.b.c.d is the same host as a.b.c.d (dual-stack sockets report it), so it must hit
  // IPv4 allow/deny lists; otherwise "NotIpAddress 10.0.0.0/8" would treat an internal caller as external.
  if (a.isIPv4MappedAddress()) {
    const o = a.toIPv4Address().octets;
    return { v: 4, n: ((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]! };
  }
  return { v: 6, g: a.parts };
}

function mask4(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** A CIDR block or a bare address (IPv4 `/32`, IPv6 `/128`). */
export function parseCidr(s: string): Cidr | string {
  const slash = s.indexOf('/');
  const addrText = slash === -1 ? s : s.slice(0, slash);
  const bitsText = slash === -1 ? undefined : s.slice(slash + 1);
  const ip = parseIp(addrText);
  if (!ip) return `"${s}" is not an IPv4 or IPv6 address or CIDR block (for example 203.0.113.0/24 or 2001:db8::/32)`;
  const mapped = ip.v === 4 && addrText.includes(':');
  const max = ip.v === 4 && !mapped ? 32 : 128;
  let bits = max;
  if (bitsText !== undefined) {
    if (!/^(0|[1-9]\d{0,2})$/.test(bitsText) || Number(bitsText) > max) {
      return `"${s}" has an invalid prefix length: it must be 0 to ${max}`;
    }
    bits = Number(bitsText);
  }
  if (ip.v === 4) {
    if (mapped) {
      if (bits < 96) return `"${s}": an IPv4-mapped IPv6 block needs a prefix of at least 96`;
      bits -= 96;
    }
    const m = mask4(bits);
    return { v: 4, n4: (ip.n & m) >>> 0, m4: m, g6: [], bits };
  }
  const g = ip.g.map((x, i) => {
    const keep = Math.max(0, Math.min(16, bits - i * 16));
    return keep === 0 ? 0 : x & ((0xffff << (16 - keep)) & 0xffff);
  });
  return { v: 6, n4: 0, m4: 0, g6: g, bits };
}

export function cidrContains(c: Cidr, ip: IpAddr): boolean {
  if (c.v !== ip.v) return false;
  if (ip.v === 4) return ((ip.n & c.m4) >>> 0) === c.n4;
  const g = ip.g;
  let bits = c.bits;
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const keep = bits >= 16 ? 16 : bits;
    const m = (0xffff << (16 - keep)) & 0xffff;
    if ((g[i]! & m) !== c.g6[i]) return false;
  }
  return true;
}

// W3C NOTE-datetime profile of ISO 8601: YYYY-MM, YYYY-MM-DD, and date-times with hh:mm, hh:mm:ss or
// hh:mm:ss.s and a zone (Z or ±hh:mm). A date-time without a zone is read as UTC, never as local time.
// A bare run of digits (including a lone year) is epoch seconds, as aws:EpochTime sends it.
const ISO = /^(\d{4})-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?$/;
const EPOCH = /^\d{1,15}$/;

/** Milliseconds since the epoch, or undefined. */
export function parseIamDate(s: string): number | undefined {
  if (EPOCH.test(s)) return Number(s) * 1000;
  const m = ISO.exec(s);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (new Date(t).getUTCDate() !== day) return undefined; // 2026-02-30
  const zone = m[8];
  if (zone === undefined || zone === 'Z') return t;
  const zh = Number(zone.slice(1, 3));
  const zm = Number(zone.slice(4, 6));
  if (zh > 23 || zm > 59) return undefined;
  const offset = (zh * 60 + zm) * 60000;
  return zone[0] === '+' ? t - offset : t + offset;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

/** An integer or decimal number (no exponent, no hex, no surrounding spaces), or undefined. */
export function parseIamNumber(s: string): number | undefined {
  return NUMBER.test(s) ? Number(s) : undefined;
}

/** 'true' / 'false' in any case, or undefined. */
export function parseIamBool(s: string): boolean | undefined {
  const l = s.length === 4 || s.length === 5 ? s.toLowerCase() : '';
  return l === 'true' ? true : l === 'false' ? false : undefined;
}

export function isBase64(s: string): boolean {
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s);
}

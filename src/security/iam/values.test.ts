// Tests for the typed value parsers: IPv4/IPv6 addresses and CIDR blocks, dates, numbers, booleans, base64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cidrContains, isBase64, parseCidr, parseIamBool, parseIamDate, parseIamNumber, parseIp, parseIPv4 } from './values.ts';

test('IPv4 parsing is strict', () => {
  assert.equal(parseIPv4('10.1.2.3'), 0x0a010203);
  assert.equal(parseIPv4('255.255.255.255'), 0xffffffff);
  assert.equal(parseIPv4('0.0.0.0'), 0);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1.2.3.-4']) {
    assert.equal(parseIPv4(bad), undefined, bad);
  }
  fc.assert(fc.property(fc.ipV4(), (ip) => parseIPv4(ip) === ip.split('.').reduce((n, o) => n * 256 + Number(o), 0)));
});

test('IPv6 parsing; IPv4-mapped addresses become IPv4; zone ids are refused', () => {
  assert.deepEqual(parseIp('2001:db8::1'), { v: 6, g: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1] });
  assert.deepEqual(parseIp('::ffff:10.1.2.3'), { v: 4, n: 0x0a010203 });
  assert.deepEqual(parseIp('::ffff:a01:203'), { v: 4, n: 0x0a010203 });
  assert.equal(parseIp('fe80::1%eth0'), undefined);
  assert.equal(parseIp('1::2::3'), undefined);
  assert.equal(parseIp('2001:db8::/32'), undefined);
});

test('CIDR blocks', () => {
  const c = (s: string) => { const r = parseCidr(s); if (typeof r === 'string') throw new Error(r); return r; };
  const ip = (s: string) => parseIp(s)!;
  assert.equal(cidrContains(c('10.0.0.0/8'), ip('10.255.0.1')), true);
  assert.equal(cidrContains(c('10.0.0.0/8'), ip('11.0.0.1')), false);
  assert.equal(cidrContains(c('0.0.0.0/0'), ip('1.2.3.4')), true);
  assert.equal(cidrContains(c('1.2.3.4'), ip('1.2.3.4')), true);
  assert.equal(cidrContains(c('1.2.3.4/31'), ip('1.2.3.5')), true);
  assert.equal(cidrContains(c('2001:db8::/32'), ip('2001:db8:ffff::1')), true);
  assert.equal(cidrContains(c('2001:db8::/33'), ip('2001:db8:8000::1')), false);
  assert.equal(cidrContains(c('::/0'), ip('2001:db8::1')), true);
  assert.equal(cidrContains(c('::/0'), ip('1.2.3.4')), false); // families never mix
  assert.equal(cidrContains(c('2001:db8::1'), ip('2001:db8::1')), true);
  assert.equal(cidrContains(c('::ffff:10.0.0.0/104'), ip('10.9.9.9')), true); // mapped block = 10.0.0.0/8
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0/-1', '2001:db8::/129', 'x', '::ffff:10.0.0.0/64']) {
    assert.equal(typeof parseCidr(bad), 'string', bad);
  }
  fc.assert(fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (a, bits) => {
    const block = c(`${a}/${bits}`);
    return cidrContains(block, ip(a));
  }));
});

test('dates: W3C ISO 8601 profile and epoch seconds, UTC unless a zone is given', () => {
  assert.equal(parseIamDate('2026-01-01T00:00:00Z'), Date.UTC(2026, 0, 1));
  assert.equal(parseIamDate('2026-01-01'), Date.UTC(2026, 0, 1));
  assert.equal(parseIamDate('2026-03'), Date.UTC(2026, 2, 1));
  assert.equal(parseIamDate('2026-01-01T10:30Z'), Date.UTC(2026, 0, 1, 10, 30));
  assert.equal(parseIamDate('2026-01-01T10:30:00+02:00'), Date.UTC(2026, 0, 1, 8, 30));
  assert.equal(parseIamDate('2026-01-01T10:30:00-01:30'), Date.UTC(2026, 0, 1, 12, 0));
  assert.equal(parseIamDate('2026-01-01T00:00:00.25Z'), Date.UTC(2026, 0, 1) + 250);
  assert.equal(parseIamDate('2026-01-01T00:00:00'), Date.UTC(2026, 0, 1)); // no zone: UTC, never local time
  assert.equal(parseIamDate('1767225600'), Date.UTC(2026, 0, 1));
  for (const bad of ['2026-13-01', '2026-02-30', '2026-01-01T24:00:00Z', 'Jan 1 2026', '2026/01/01', '', '-5', '2026-01-01T00:00:00+25:00']) {
    assert.equal(parseIamDate(bad), undefined, bad);
  }
});

test('numbers: integers and decimals only', () => {
  assert.deepEqual(['5', '-5', '+5', '5.5', '.5', '5.', '0010'].map(parseIamNumber), [5, -5, 5, 5.5, 0.5, 5, 10]);
  for (const bad of ['', '1e3', '0x10', ' 5', '5 ', 'NaN', 'Infinity', '5a', '.']) assert.equal(parseIamNumber(bad), undefined, bad);
});

test('booleans and base64', () => {
  assert.deepEqual(['true', 'TRUE', 'False', 'yes', '', 'truee'].map(parseIamBool), [true, true, false, undefined, undefined, undefined]);
  assert.deepEqual(['', 'QQ==', 'QUI=', 'QUJD', 'QUJ', 'Q===', 'QU J'].map(isBase64), [true, true, true, true, false, false, false]);
});

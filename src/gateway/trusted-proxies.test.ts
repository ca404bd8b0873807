import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTrustedProxies } from './trusted-proxies.ts';

test('without trusted proxies the peer is the client and forwarded headers are ignored', () => {
  const p = createTrustedProxies([]);
  assert.deepEqual(p.resolve('10.0.0.1', false, '203.0.113.9', 'https'), { sourceIp: '10.0.0.1', secure: false });
});

test('from a trusted proxy: the right-most untrusted X-Forwarded-For address, and the last X-Forwarded-Proto', () => {
  const p = createTrustedProxies(['10.0.0.0/8', '192.168.1.1', '::ffff:172.16.0.0/108']);
  assert.deepEqual(p.resolve('10.1.2.3', false, '198.51.100.1, 203.0.113.9, 10.9.9.9', 'http, https'), { sourceIp: '203.0.113.9', secure: true });
  assert.deepEqual(p.resolve('192.168.1.1', false, ['1.1.1.1', '2.2.2.2'], 'http'), { sourceIp: '2.2.2.2', secure: false });
  // Every hop trusted: the left-most one is all we know.
  assert.deepEqual(p.resolve('10.1.2.3', false, '10.2.2.2', undefined), { sourceIp: '10.2.2.2', secure: false });
  // Garbage stops the walk: what is left of it was written by the client.
  assert.deepEqual(p.resolve('10.1.2.3', false, 'evil, 10.2.2.2', undefined).sourceIp, '10.2.2.2');
  assert.equal(p.isTrusted('172.16.5.5'), true);
  assert.equal(p.isTrusted('::ffff:10.0.0.1'), true);
  assert.equal(p.isTrusted('11.0.0.1'), false);
});

test('an untrusted peer cannot claim https or another address', () => {
  const p = createTrustedProxies(['10.0.0.0/8']);
  assert.deepEqual(p.resolve('203.0.113.5', false, '10.0.0.1', 'https'), { sourceIp: '203.0.113.5', secure: false });
  // A TLS listener stays secure whatever a proxy says.
  assert.deepEqual(p.resolve('10.0.0.2', true, undefined, 'http'), { sourceIp: '10.0.0.2', secure: true });
});

test('IPv6 ranges', () => {
  const p = createTrustedProxies(['2001:db8::/32']);
  assert.equal(p.resolve('2001:db8::1', false, '2001:db9::5', undefined).sourceIp, '2001:db9::5');
});

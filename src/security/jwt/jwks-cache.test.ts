// Tests of the JWKS cache against a real local key server, with a fake clock: TTL and background refresh,
// unknown-kid refetch limited to one at a time and one per cooldown, last good keys while the provider
// is down, size and time limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { createFakeClock } from '../../core/clock.ts';
import { createJwksCache } from './jwks-cache.ts';

async function keyJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
}

interface KeyServer {
  url: string;
  hits: number;
  keys: JWK[];
  mode: 'ok' | 'down' | 'huge' | 'slow' | 'html';
  close(): Promise<void>;
}

async function keyServer(keys: JWK[]): Promise<KeyServer> {
  const s: KeyServer = { url: '', hits: 0, keys, mode: 'ok', close: async () => {} };
  const pending = new Set<http.ServerResponse>();
  const server = http.createServer((_req, res) => {
    s.hits++;
    if (s.mode === 'down') return res.writeHead(503).end();
    if (s.mode === 'html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    if (s.mode === 'slow') {
      pending.add(res);
      return;
    }
    const body = s.mode === 'huge' ? JSON.stringify({ keys: s.keys, pad: 'x'.repeat(300_000) }) : JSON.stringify({ keys: s.keys });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  s.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  s.close = () =>
    new Promise((r) => {
      for (const res of pending) res.destroy();
      server.closeAllConnections();
      server.close(() => r());
    });
  return s;
}

function cacheFor(server: KeyServer, clock = createFakeClock(), over: { timeoutMs?: number; onRefresh?: (result: 'ok' | 'error') => void } = {}) {
  return {
    clock,
    cache: createJwksCache({
      resolveUrl: async () => server.url,
      clock,
      ttlMs: 600_000,
      cooldownMs: 30_000,
      maxBytes: 150_000,
      timeoutMs: over.timeoutMs ?? 1_500,
      ...(over.onRefresh ? { onRefresh: over.onRefresh } : {}),
    }),
  };
}

test('keys are fetched once and served from the cache until the TTL; a stale set is refreshed in the background', async () => {
  const server = await keyServer([await keyJwk('k1')]);
  try {
    const { cache, clock } = cacheFor(server);
    assert.equal((await cache.getKey('k1', 'RS256')).ok, true);
    assert.equal((await cache.getKey('k1', 'RS256')).ok, true);
    assert.equal(server.hits, 1);
    clock.advance(600_000);
    // Stale: answered at once from the current set while the refresh runs.
    assert.equal((await cache.getKey('k1', 'RS256')).ok, true);
    await cache.whenIdle();
    assert.equal(server.hits, 2);
    assert.equal((await cache.getKey('k1', 'RS256')).ok, true);
    assert.equal(server.hits, 2, 'fresh again after the refresh');
  } finally {
    await server.close();
  }
});

test('an unknown kid refetches once for many concurrent callers, then at most once per cooldown', async () => {
  const server = await keyServer([await keyJwk('k1')]);
  try {
    const { cache, clock } = cacheFor(server);
    await cache.getKey('k1', 'RS256');
    assert.equal(server.hits, 1);
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.getKey('attacker', 'RS256')));
    assert.ok(results.every((r) => !r.ok && r.reason === 'no-key'));
    assert.equal(server.hits, 2, 'fifty unknown-kid tokens cause one refetch');
    for (let i = 0; i < 20; i++) await cache.getKey(`attacker-${i}`, 'RS256');
    assert.equal(server.hits, 2, 'no refetch inside the cooldown');
    clock.advance(30_000);
    // The provider rotated: the new kid is found by the one refetch the cooldown allows.
    server.keys = [await keyJwk('k2')];
    assert.equal((await cache.getKey('k2', 'RS256')).ok, true);
    assert.equal(server.hits, 3);
  } finally {
    await server.close();
  }
});

test('the last good key set keeps serving while the provider is down', async () => {
  const server = await keyServer([await keyJwk('k1')]);
  try {
    const { cache, clock } = cacheFor(server);
    await cache.getKey('k1', 'RS256');
    server.mode = 'down';
    clock.advance(3_600_000);
    for (let i = 0; i < 3; i++) {
      assert.equal((await cache.getKey('k1', 'RS256')).ok, true);
      await cache.whenIdle();
      clock.advance(30_000);
    }
    assert.equal(cache.stats.failures, 3, 'each refresh failed, none took the keys away');
  } finally {
    await server.close();
  }
});

test('a kid the cached set lacks while the provider is down is "unavailable" (a 5xx), not an invalid token', async () => {
  const server = await keyServer([await keyJwk('k1')]);
  try {
    const { cache, clock } = cacheFor(server);
    await cache.getKey('k1', 'RS256');
    server.mode = 'down';
    // The provider rotated to k2 and then went down: tokens signed with k2 cannot be judged.
    const r = await cache.getKey('k2', 'RS256');
    assert.ok(!r.ok && r.reason === 'unavailable' && r.transient, JSON.stringify(r));
    assert.equal((await cache.getKey('k1', 'RS256')).ok, true, 'the known key keeps serving');
    const again = await cache.getKey('k3', 'RS256');
    assert.ok(!again.ok && again.reason === 'unavailable', 'inside the cooldown too, while the last fetch failed');
    clock.advance(30_000);
    server.mode = 'ok';
    const healed = await cache.getKey('k3', 'RS256');
    assert.ok(!healed.ok && healed.reason === 'no-key', 'once the provider answers, an unknown kid is the token\'s fault');
  } finally {
    await server.close();
  }
});

test('with no key set, an unreachable provider is "unavailable" (transient) and retried once per cooldown', async () => {
  const server = await keyServer([]);
  server.mode = 'down';
  try {
    const { cache, clock } = cacheFor(server);
    const r = await cache.getKey('k1', 'RS256');
    assert.deepEqual({ ok: r.ok, reason: !r.ok && r.reason, transient: !r.ok && r.reason === 'unavailable' && r.transient }, { ok: false, reason: 'unavailable', transient: true });
    await cache.getKey('k1', 'RS256');
    assert.equal(server.hits, 1, 'no hammering of a provider that is down');
    clock.advance(30_000);
    server.mode = 'ok';
    server.keys = [await keyJwk('k1')];
    assert.equal((await cache.getKey('k1', 'RS256')).ok, true);
  } finally {
    await server.close();
  }
});

test('oversized, non-JSON and slow key sources are refused as unavailable', async () => {
  const server = await keyServer([await keyJwk('k1')]);
  try {
    server.mode = 'huge';
    let r = await cacheFor(server).cache.getKey('k1', 'RS256');
    assert.ok(!r.ok && r.reason === 'unavailable' && !r.transient && /exceeds 150000/.test(r.detail));
    server.mode = 'html';
    r = await cacheFor(server).cache.getKey('k1', 'RS256');
    assert.ok(!r.ok && r.reason === 'unavailable' && /not JSON/.test(r.detail));
    server.mode = 'slow';
    r = await cacheFor(server, createFakeClock(), { timeoutMs: 100 }).cache.getKey('k1', 'RS256');
    assert.ok(!r.ok && r.reason === 'unavailable' && r.transient && /within 100 ms/.test(r.detail));
  } finally {
    await server.close();
  }
});

test('onRefresh reports each fetch once when it ends: ok, or error while the provider is down', async () => {
  const server = await keyServer([await keyJwk('k1')]);
  try {
    const results: string[] = [];
    const { cache, clock } = cacheFor(server, createFakeClock(), { onRefresh: (r) => results.push(r) });
    await Promise.all(Array.from({ length: 5 }, () => cache.getKey('k1', 'RS256')));
    assert.deepEqual(results, ['ok'], 'concurrent callers share one fetch');
    server.mode = 'down';
    clock.advance(600_000);
    await cache.getKey('k1', 'RS256');
    await cache.whenIdle();
    server.mode = 'html';
    clock.advance(30_000);
    await cache.getKey('k1', 'RS256');
    await cache.whenIdle();
    assert.deepEqual(results, ['ok', 'error', 'error']);
    assert.equal(cache.stats.fetches, results.length);
  } finally {
    await server.close();
  }
});

test('private keys and encryption keys in a JWKS are never used', async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const priv = { ...(await exportJWK(privateKey)), kid: 'p', alg: 'RS256' };
  const enc = { ...(await keyJwk('e')), use: 'enc' };
  const server = await keyServer([priv, enc]);
  try {
    const { cache } = cacheFor(server);
    assert.equal((await cache.getKey('p', 'RS256')).ok, false);
    assert.equal((await cache.getKey('e', 'RS256')).ok, false);
  } finally {
    await server.close();
  }
});

// Upstream pools: one per origin (and connect timeout), reused, closed on shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createUpstreamPools } from '../../src/gateway/integrations/upstream-pools.ts';

test('one pool per origin, created on first use', async () => {
  const pools = createUpstreamPools({ connections: 8, connectTimeoutMs: 1000 });
  assert.equal(pools.size, 0);
  const a = pools.get('http://127.0.0.1:1');
  assert.equal(pools.get('http://127.0.0.1:1'), a);
  assert.equal(pools.get('http://127.0.0.1:1', 1000), a, 'the default connect timeout shares the pool');
  assert.notEqual(pools.get('http://127.0.0.1:1', 50), a, 'another connect timeout gets its own pool');
  assert.notEqual(pools.get('http://127.0.0.1:2'), a);
  assert.equal(pools.size, 3);
  await pools.close();
  assert.equal(a.closed, true);
  assert.throws(() => pools.get('http://127.0.0.1:1'), /closed/);
});

test('destroy closes every pool at once', async () => {
  const pools = createUpstreamPools();
  const a = pools.get('http://127.0.0.1:1');
  await pools.destroy();
  assert.equal(a.destroyed, true);
});

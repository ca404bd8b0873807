// Benchmark scenarios of issue 3 for bench/run.ts: "key + plan throttle + quota" (every request valid, limits
// never reached) with in-process, Redis and approximate Redis counters, and a gateway starting with 100,000 keys (time, RSS).
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import type { Helpers, Result } from './scenario-types.ts';

function keyDefinition(h: Helpers, rateLimitHeaders = true) {
  const d = h.definition(h.upstream);
  const api = d.apis[0]!;
  return {
    ...d,
    apis: [{ ...api, routes: api.routes.map((r) => ({ ...r, apiKeyRequired: true })) }],
    usagePlans: [{
      name: 'bench',
      apiStages: [{ api: 'bench', stage: 'prod' }],
      throttle: { rateLimit: 1_000_000, burstLimit: 1_000_000 },
      quota: { limit: 1_000_000_000_000, period: 'MONTH' },
      rateLimitHeaders,
    }],
  };
}

async function admin(h: Helpers, base: string, method: string, path: string, body: string, contentType = 'application/json') {
  const res = await fetch(base + path, { method, headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': contentType }, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export async function runKeyScenarios(h: Helpers, passThrough: Result | undefined, results: Result[], notes: string[]): Promise<void> {
  const redisUp = spawnSync('redis-cli', ['-p', '6379', 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG';
  // The third field: send the IETF RateLimit headers (the default). Node validates every header value it is
  // given, so the two headers cost a few µs per request: measured once without them too.
  const modes: Array<[string, Record<string, string>, boolean]> = [['memory', {}, true], ['memory, no RateLimit headers', {}, false]];
  if (redisUp) {
    const redis = { PORTCULLIS_COUNTERS: 'redis://127.0.0.1:6379', PORTCULLIS_COUNTERS_PREFIX: `bench_${randomBytes(4).toString('hex')}:` };
    modes.push(['redis', redis, true], ['redis approximate', { ...redis, PORTCULLIS_COUNTERS_MODE: 'approximate' }, true]);
  }
  else notes.push('key + plan scenario with Redis counters skipped: no redis-server on 127.0.0.1:6379');
  for (const [mode, env, headers] of modes) {
    const slug = mode.replace(/[^a-z]+/g, '-');
    // A pass-through run right before each key run: on a shared 2-core machine throughput drifts within a
    // run, so each ratio is also given against a baseline measured next to it; with --key-rounds N, N such
    // pairs alternate on the same two gateways and the median ratio is reported.
    const base = await h.startGateway(`keys-base-${slug}`, h.definition(h.upstream));
    const g = await h.startGateway(`keys-${slug}`, keyDefinition(h, headers), env);
    const created = await admin(h, g.adminUrl, 'POST', '/v1/api-keys', JSON.stringify({ name: 'bench', plans: ['bench'] }));
    const name = `gateway key + plan throttle + quota (${mode})`;
    const target = mode === 'redis' ? '0.7' : '0.9'; // the approximate mode is meant to reach in-process speed
    const ratios: number[] = [];
    for (let round = 1; round <= h.keyRounds; round++) {
      const suffix = h.keyRounds > 1 ? ` (round ${round})` : '';
      const paired = await h.load(`gateway pass-through (before ${mode} keys)${suffix}`, `${base.url}/prod/bench`, { pid: base.proc.pid });
      results.push(paired);
      const r = await h.load(name + suffix, `${g.url}/prod/bench`, { headers: { 'x-api-key': String(created.value) }, pid: g.proc.pid });
      results.push(r);
      ratios.push(r.rps / paired.rps);
      for (const [what, pt] of [['the pass-through run just before it', paired], ['the first pass-through run', passThrough]] as const) {
        if (!pt) continue;
        const cpu = r.cpuUs && pt.cpuUs ? `; CPU per request ${r.cpuUs.toFixed(1)} µs vs ${pt.cpuUs.toFixed(1)} µs (${(pt.cpuUs / r.cpuUs).toFixed(2)}x)` : '';
        notes.push(`${name + suffix}: ${(r.rps / pt.rps).toFixed(2)}x the req/s of ${what} (target ${target}x)${cpu}`);
      }
    }
    if (ratios.length > 1) {
      const sorted = [...ratios].sort((x, y) => x - y);
      notes.push(`${name}: median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)}x of the paired pass-through over ${ratios.length} rounds (${ratios.map((x) => x.toFixed(2)).join(', ')}; target ${target}x)`);
    }
    await h.stop(base.proc);
    await h.stop(g.proc);
  }

  // Startup with 100,000 keys: import them once, then time a fresh start on the same store against one without keys.
  const empty = await h.startGateway('keys-startup-empty', keyDefinition(h));
  await new Promise((r) => setTimeout(r, 1000));
  const baseRss = h.rssMb(empty.proc.pid!);
  await h.stop(empty.proc);
  const filled = await h.startGateway('keys-startup', keyDefinition(h));
  const rows = ['Name,Key,UsagePlanIds'];
  for (let i = 0; i < 100_000; i++) rows.push(`k${i},${randomBytes(16).toString('hex')},bench`);
  const t0 = performance.now();
  await admin(h, filled.adminUrl, 'POST', '/v1/api-keys/import', rows.join('\n') + '\n', 'text/csv');
  notes.push(`importing 100,000 keys (CSV, one transaction): ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  await h.stop(filled.proc);
  const t1 = performance.now();
  const again = await h.startGateway('keys-startup', keyDefinition(h));
  const startup = (performance.now() - t1) / 1000;
  await new Promise((r) => setTimeout(r, 1000));
  const rss = h.rssMb(again.proc.pid!);
  notes.push(`start with 100,000 keys: ${startup.toFixed(2)} s to listening (target < 2 s); RSS ${rss.toFixed(1)} MB vs ${baseRss.toFixed(1)} MB without keys (+${(rss - baseRss).toFixed(1)} MB, target < 50 MB)`);
  await h.stop(again.proc);
}

// Counter-store micro-benchmarks: ns per decision for the in-process adapter, decisions (round trips) per
// second for Redis. Run: node --import tsx bench/counters.ts [--redis redis://127.0.0.1:6379] [--seconds 2]
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createMemoryCounters } from '../src/store/counters/memory-counters.ts';
import { openRedisCounters } from '../src/store/counters/redis-counters.ts';
import { LeasedCounters } from '../src/store/counters/leased-counters.ts';
import { readFileSync } from 'node:fs';
import { usageRecordId, type BucketSpec } from '../src/store/counters/ports.ts';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1] ?? '');
const REDIS_URL = args.get('redis') ?? process.env.PORTCULLIS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(args.get('seconds') ?? 2);

// Big enough never to refuse, so every decision does the full read-decide-write work.
const HUGE = { rateLimit: 1e6, burstLimit: 1_000_000 };
const oneBucket: BucketSpec[] = [{ key: 'acct', ...HUGE }];
// A throttle-stage route with a route, a stage and the account bucket.
const threeBuckets: BucketSpec[] = [
  { key: 'r:abcdef0123:prod:GET:/pets', ...HUGE },
  { key: 's:abcdef0123:prod', ...HUGE },
  { key: 'acct', ...HUGE },
];

function nsPerOp(name: string, fn: (i: number) => void): void {
  for (let i = 0; i < 200_000; i++) fn(i); // warm-up (JIT)
  const n = 2_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  console.log(`  ${name.padEnd(44)} ${ns.toFixed(0).padStart(6)} ns/decision  (${(1e9 / ns / 1e6).toFixed(1)} M/s)`);
}

function benchMemory(): void {
  console.log('memory adapter (one thread, synchronous):');
  const c = createMemoryCounters();
  const t0 = Date.now();
  nsPerOp('takeBuckets, 1 bucket', (i) => c.takeBuckets(oneBucket, t0 + (i >>> 10)));
  nsPerOp('takeBuckets, 3 buckets (route+stage+account)', (i) => c.takeBuckets(threeBuckets, t0 + (i >>> 10)));
  const keys = Array.from({ length: 10_000 }, (_, i) => [{ key: `k:${i}`, ...HUGE }, ...threeBuckets.slice(1)]);
  nsPerOp('takeBuckets, 3 buckets, 10,000 distinct keys', (i) => c.takeBuckets(keys[i % keys.length], t0 + (i >>> 10)));
  nsPerOp('consumeQuota', (i) => c.consumeQuota(`q:${i & 1023}`, 1e12, t0 + 86_400_000, t0));
}

/** utime + stime of a local process in µs (clock ticks of 1/100 s), or NaN when it cannot be read. */
function processCpuUs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

/** The redis-server's pid when it runs on this machine (its CPU per decision is then reported). */
let redisPid: number | undefined;

async function throughput(name: string, inFlight: number, op: (i: number) => unknown): Promise<void> {
  const server0 = processCpuUs(redisPid);
  let done = 0;
  let degraded = 0;
  const deadline = Date.now() + SECONDS * 1000;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const lanes = Array.from({ length: inFlight }, async () => {
    while (Date.now() < deadline) {
      const r = (await op(done)) as { degraded?: boolean };
      if (r.degraded) degraded++;
      done++;
    }
  });
  await Promise.all(lanes);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const note = degraded ? `  (${degraded} degraded!)` : '';
  const clientUs = (cpu.user + cpu.system) / done;
  const serverUs = (processCpuUs(redisPid) - server0) / done;
  const server = Number.isNaN(serverUs) ? '' : `, ${serverUs.toFixed(1)} µs of redis-server's`;
  console.log(
    `  ${name.padEnd(44)} ${Math.round(done / secs).toString().padStart(7)} decisions/s  (${((secs * 1e6) / done * inFlight).toFixed(0)} µs each, ` +
      `${clientUs.toFixed(1)} µs of this process's CPU${server})${note}`,
  );
}

/** Removes what a run stored under its own prefix. */
async function deleteKeys(prefix: string): Promise<void> {
  const admin = new Redis(REDIS_URL);
  const keys = await admin.keys(`${prefix}*`);
  if (keys.length) await admin.del(...keys);
  admin.disconnect();
}

async function benchRedis(): Promise<void> {
  const prefix = `pc-bench:${randomBytes(4).toString('hex')}:`;
  let c: Awaited<ReturnType<typeof openRedisCounters>>;
  try {
    c = await openRedisCounters(REDIS_URL, { prefix, commandTimeoutMs: 1_000 });
  } catch (err) {
    console.log(`redis: skipped (${(err as Error).message})`);
    return;
  }
  console.log(`redis adapter (${c.location}, one connection; the decisions of one event-loop turn share one script call):`);
  const probe = new Redis(REDIS_URL);
  const info = await probe.info('server');
  probe.disconnect();
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  redisPid = Number.isInteger(pid) && pid > 0 ? pid : undefined;
  const t0 = Date.now();
  try {
    // Warm-up: JIT, script cache, connection.
    for (let i = 0; i < 5_000; i++) await c.takeBuckets(threeBuckets, t0);
    await throughput('takeBuckets, 3 buckets, 1 in flight', 1, (i) => c.takeBuckets(threeBuckets, t0 + i));
    await throughput('takeBuckets, 3 buckets, 64 in flight', 64, (i) => c.takeBuckets(threeBuckets, t0 + i));
    await throughput('consumeQuota, 1 in flight', 1, () => c.consumeQuota('q', 1e12, t0 + 86_400_000, t0));
    await throughput('consumeQuota, 64 in flight', 64, () => c.consumeQuota('q', 1e12, t0 + 86_400_000, t0));
    const plan = { key: 'q', limit: 1e12, windowEndMs: t0 + 86_400_000 };
    await throughput('3 buckets + quota in one call, 64 in flight', 64, (i) => c.takeBucketsAndQuota(threeBuckets, plan, t0 + i));
    // What a request of a key in a plan asks with Redis counters: the usage record counted in the same call.
    // Small batches too (an HTTP load of 50 connections gives calls of one to three decisions).
    const tally = usageRecordId('bench', 'k1');
    await throughput('the same + usage record, 64 in flight', 64, (i) => c.takeBucketsAndQuota(threeBuckets, plan, t0 + i, tally));
    await throughput('3 buckets + quota, 2 in flight', 2, (i) => c.takeBucketsAndQuota(threeBuckets, plan, t0 + i));
    await throughput('the same + usage record, 2 in flight', 2, (i) => c.takeBucketsAndQuota(threeBuckets, plan, t0 + i, tally));
  } finally {
    await c.close();
    await deleteKeys(prefix);
  }
}

/** The approximate mode: leases of 100 from Redis, spent locally; the same calls as the exact run above. */
async function benchLeased(): Promise<void> {
  const prefix = `pc-bench:${randomBytes(4).toString('hex')}:`;
  let redis: Awaited<ReturnType<typeof openRedisCounters>>;
  try {
    redis = await openRedisCounters(REDIS_URL, { prefix, commandTimeoutMs: 1_000 });
  } catch (err) {
    console.log(`redis approximate: skipped (${(err as Error).message})`);
    return;
  }
  const c = new LeasedCounters(redis);
  console.log(`redis approximate (${c.location}, leases of up to 100 spent locally, reconciled every second):`);
  const t0 = Date.now();
  const plan = { key: 'q', limit: 1e12, windowEndMs: t0 + 86_400_000 };
  try {
    for (let i = 0; i < 50_000; i++) await c.takeBucketsAndQuota(threeBuckets, plan, t0);
    const calls0 = c.stats().leaseCalls;
    const local0 = c.stats().localDecisions;
    await throughput('3 buckets + quota, 64 in flight', 64, (i) => c.takeBucketsAndQuota(threeBuckets, plan, t0 + i));
    const { leaseCalls, localDecisions } = c.stats();
    const calls = leaseCalls - calls0;
    const local = localDecisions - local0;
    console.log(`  ${calls} lease calls for ${calls + local} decisions (${((100 * local) / (calls + local)).toFixed(1)}% answered locally)`);
  } finally {
    await c.close();
    await deleteKeys(prefix);
  }
}

benchMemory();
await benchRedis();
await benchLeased();

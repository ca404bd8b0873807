// Route-matcher speed: ns per lookup for static, {param} and {proxy+} routes as the table grows from 10 to
// 100,000 routes. Run: node --import tsx bench/router.ts   (lookup cost should stay flat as routes grow).
import { createRouter } from '../src/gateway/router.ts';

const SIZES = [10, 1_000, 10_000, 100_000];
const LOOKUPS = 1_000_000;
const ROUNDS = 10;

interface Table {
  router: ReturnType<typeof createRouter<number>>;
  paths: Record<'static' | 'param' | 'greedy' | 'encoded' | 'miss' | 'hot', string[]>;
}

// A third of the routes each: /api/v1/r{i}/list, /api/v1/r{i}/items/{id}, /api/v1/r{i}/files/{proxy+}.
function build(count: number): Table {
  const router = createRouter<number>();
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    const base = `/api/v1/r${i}`;
    if (kind === 0) router.add('GET', `${base}/list`, i);
    else if (kind === 1) router.add('GET', `${base}/items/{id}`, i);
    else router.add('ANY', `${base}/files/{proxy+}`, i);
  }
  const paths: Table['paths'] = { static: [], param: [], greedy: [], encoded: [], miss: [], hot: [] };
  // Deterministic pseudo-random targets (xorshift), 1,024 of each kind, so lookups do not walk memory in order.
  let seed = 0x9e3779b9;
  const next = (n: number): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const pickOf = (kind: number): number => {
    const slots = Math.ceil((count - kind) / 3);
    return next(slots) * 3 + kind;
  };
  for (let k = 0; k < 1024; k++) {
    paths.static.push(`/api/v1/r${pickOf(0)}/list`);
    paths.param.push(`/api/v1/r${pickOf(1)}/items/${100_000 + k}`);
    paths.greedy.push(`/api/v1/r${pickOf(2)}/files/docs/${k}/readme.md`);
    paths.encoded.push(`/api/v1/r${pickOf(1)}/items/caf%C3%A9-${k}`);
    paths.miss.push(`/api/v1/r${pickOf(0)}/nothing/${k}`);
    // One param route asked again and again: the algorithm's own cost, without the cache misses that 1,024
    // targets spread over a large table add (those grow with the table's memory, not with its shape).
    paths.hot.push(`/api/v1/r1/items/${100_000 + (k & 7)}`);
  }
  return { router, paths };
}

function measure(table: Table, kind: keyof Table['paths'], method: string): number {
  const { router } = table;
  const paths = table.paths[kind];
  let sink = 0;
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const m = router.find(method, paths[i & 1023]);
      if (m !== undefined) sink += m.value;
    }
  };
  run(200_000); // warm up: let the JIT settle before timing
  // The best of several rounds: other processes on the machine only ever add time.
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    run(LOOKUPS / ROUNDS);
    best = Math.min(best, Number(process.hrtime.bigint() - start) / (LOOKUPS / ROUNDS));
  }
  if (sink === -1) console.log(sink); // keep the loop observable
  return best;
}

const rows: string[][] = [['routes', 'static', 'param', 'greedy', 'param %-encoded', 'miss', 'param, one route']];
for (const size of SIZES) {
  const built = performance.now();
  const table = build(size);
  const buildMs = performance.now() - built;
  const ns = (['static', 'param', 'greedy', 'encoded', 'miss', 'hot'] as const).map((k) => measure(table, k, 'GET').toFixed(0));
  rows.push([`${size.toLocaleString('en-US')} (built in ${buildMs.toFixed(0)} ms)`, ...ns]);
}

console.log(`router lookups: ns per lookup, best of ${ROUNDS} rounds of ${(LOOKUPS / ROUNDS).toLocaleString('en-US')} (Node ${process.version})`);
const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
for (const row of rows) console.log(row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));

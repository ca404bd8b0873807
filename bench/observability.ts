// Benchmark scenarios of issue 7 for bench/run.ts: the cost of JSON access logging to a file plus metrics, against
// both off, in the same run (alternating runs to spread the machine's noise), and with the built-in alarm rules on.
import { join } from 'node:path';
import type { Helpers, Result } from './scenario-types.ts';

export async function runObservabilityScenarios(h: Helpers, results: Result[], notes: string[], rounds = 3): Promise<void> {
  const base = h.definition(h.upstream);
  const on = { ...base, settings: { ...base.settings, accessLog: { format: 'JSON', enabled: true } } };
  const off = { ...base, settings: { ...base.settings, accessLog: { format: 'JSON', enabled: false } } };
  const watched = { ...on, monitoring: {} };
  const variants: Array<[string, object, Record<string, string>]> = [
    ['log to file + metrics', on, { PORTCULLIS_ACCESS_LOG: join(h.tmp, 'obs-access.log') }],
    ['log off + metrics off', off, { PORTCULLIS_METRICS: 'off' }],
    ['log to file + metrics + alarm rules', watched, { PORTCULLIS_ACCESS_LOG: join(h.tmp, 'obs-access-2.log') }],
  ];
  const started = [];
  for (const [name, def, env] of variants) started.push({ name, g: await h.startGateway(`obs${started.length}`, def, env) });
  const sums = new Map<string, { rps: number[]; cpu: number[] }>();
  for (let round = 0; round < rounds; round++) {
    for (const { name, g } of started) {
      const r = await h.load(`gateway, ${name}`, `${g.url}/prod/bench`, { pid: g.proc.pid });
      results.push({ ...r, name: `${r.name} (round ${round + 1})` });
      const s = sums.get(name) ?? { rps: [], cpu: [] };
      s.rps.push(r.rps);
      if (r.cpuUs !== undefined) s.cpu.push(r.cpuUs);
      sums.set(name, s);
    }
  }
  for (const { g } of started) await h.stop(g.proc);
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const offRps = avg(sums.get('log off + metrics off')!.rps);
  const offCpu = avg(sums.get('log off + metrics off')!.cpu);
  for (const name of ['log to file + metrics', 'log to file + metrics + alarm rules']) {
    const s = sums.get(name)!;
    notes.push(
      `${name}: ${(avg(s.rps) / offRps).toFixed(2)}x the requests/s of log and metrics off ` +
        `(${avg(s.rps).toFixed(0)} vs ${offRps.toFixed(0)} req/s, mean of ${rounds} alternating runs)` +
        (s.cpu.length && offCpu ? `; CPU per request ${avg(s.cpu).toFixed(1)} vs ${offCpu.toFixed(1)} µs (${(offCpu / avg(s.cpu)).toFixed(2)}x)` : ''),
    );
  }
}

// HTTPS scenarios (issue 6) for bench/run.ts: the same route over plain HTTP and over HTTPS with keep-alive
// on one gateway in the same run (target: HTTPS >= 0.8x), and new TLS handshakes per second, full and resumed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { spawn, spawnSync } from 'node:child_process';
import { createCa, issueCertificate } from '../src/tls/dev-certs.ts';
import type { Helpers, Result } from './scenario-types.ts';

export async function runHttpsScenarios(h: Helpers, results: Result[], notes: string[]): Promise<void> {
  const dir = join(h.tmp, 'https-certs');
  mkdirSync(dir, { recursive: true });
  const ca = await createCa('Bench CA');
  const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ips: ['127.0.0.1'], usage: 'server' });
  writeFileSync(join(dir, 'server.pem'), server.cert + ca.cert);
  writeFileSync(join(dir, 'server-key.pem'), server.key);
  writeFileSync(join(dir, 'ca.pem'), ca.cert);
  const certificate = { cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') };
  const d = h.definition(h.upstream);
  const def = {
    ...d,
    domains: [
      { name: 'localhost', certificate, basePathMappings: [{ api: 'bench', stage: 'prod' }] },
      // openssl s_time sends no SNI: the listener then selects the domain named by the local address.
      { name: '127.0.0.1', certificate, basePathMappings: [{ api: 'bench', stage: 'prod' }] },
    ],
  };
  const httpsPort = await h.freePort();
  // serve: the plain listener answers too, so both transports reach the same route of the same process.
  const g = await h.startGateway('https', def, {}, ['--https-listen', `127.0.0.1:${httpsPort}`, '--http-mode', 'serve']);
  await h.waitPort(httpsPort);
  const plainPort = new URL(g.url).port;
  const pid = g.proc.pid;
  // Interleaved twice: other load on a shared machine then hits both transports alike.
  const runs: Result[] = [];
  for (let i = 1; i <= 2; i++) {
    runs.push(await h.load(`custom domain, plain HTTP #${i}`, `http://localhost:${plainPort}/bench`, { pid }));
    runs.push(await h.load(`custom domain, HTTPS k-a #${i}`, `https://localhost:${httpsPort}/bench`, { pid }));
  }
  results.push(...runs);
  const sum = (secure: boolean, f: (r: Result) => number) => runs.filter((_, i) => (i % 2 === 1) === secure).reduce((a, r) => a + f(r), 0);
  notes.push(`HTTPS keep-alive: ${(sum(true, (r) => r.rps) / sum(false, (r) => r.rps)).toFixed(2)}x the requests/s of plain HTTP on the same route, same process, interleaved runs (target >= 0.8x)`);
  if (runs.every((r) => r.cpuUs !== undefined)) {
    const plainCpu = sum(false, (r) => r.cpuUs!) / 2;
    const httpsCpu = sum(true, (r) => r.cpuUs!) / 2;
    notes.push(
      `gateway CPU per request: plain HTTP ${plainCpu.toFixed(1)} µs, HTTPS ${httpsCpu.toFixed(1)} µs: ` +
        `${(plainCpu / httpsCpu).toFixed(2)}x, the throughput ratio of a CPU-bound gateway (steadier than req/s on a shared machine)`,
    );
  }

  for (const resumed of [false, true]) {
    const rate = await handshakesPerSecond(httpsPort, ca.cert, resumed, 3000);
    notes.push(
      `new TLS 1.3 handshakes per second, Node client (${resumed ? 'resumed, session tickets' : 'full, ECDSA P-256'}): ${rate.perSecond.toFixed(0)}` +
        `${resumed ? ` (${rate.resumedShare.toFixed(0)}% resumed)` : ''}, 16 concurrent connections from the bench process, ${rate.failed} failed`,
    );
  }
  if (spawnSync('openssl', ['version']).error === undefined) {
    for (const mode of ['-new', '-reuse'] as const) {
      const rate = await sTime(httpsPort, join(dir, 'ca.pem'), mode, 3, 4);
      notes.push(`new TLS 1.3 handshakes per second, 4 x openssl s_time ${mode}: ${rate.toFixed(0)}`);
    }
  }
  await h.stop(g.proc);
}

/**
 * Connects, completes the handshake, closes; repeatedly, from 16 concurrent loops. Resumed: each loop keeps
 * the newest session ticket it was sent (TLS 1.3 sends them after the handshake) and offers it.
 */
async function handshakesPerSecond(port: number, ca: string, resume: boolean, ms: number): Promise<{ perSecond: number; resumedShare: number; failed: number }> {
  let done = 0;
  let resumedCount = 0;
  let failed = 0;
  const until = Date.now() + ms;
  const loop = async () => {
    let session: Buffer | undefined;
    while (Date.now() < until) {
      await new Promise<void>((resolve) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, session: resume ? session : undefined, minVersion: 'TLSv1.3' });
        let timer: NodeJS.Timeout | undefined;
        s.on('session', (buf: Buffer) => {
          session = buf;
          if (timer !== undefined) s.destroy();
        });
        s.once('secureConnect', () => {
          done++;
          if (s.isSessionReused()) resumedCount++;
          // Without resumption, or holding a ticket already: close at once. Otherwise wait briefly for one.
          if (!resume || session !== undefined) s.destroy();
          else timer = setTimeout(() => s.destroy(), 200);
        });
        s.once('error', () => {
          failed++;
          s.destroy();
        });
        s.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 16 }, loop));
  return { perSecond: (done * 1000) / (Date.now() - started), resumedShare: done ? (resumedCount * 100) / done : 0, failed };
}

/** Runs `parallel` openssl s_time clients for `seconds` and sums their connections per second. */
async function sTime(port: number, caFile: string, mode: '-new' | '-reuse', seconds: number, parallel: number): Promise<number> {
  const one = () =>
    new Promise<number>((resolve) => {
      const p = spawn('openssl', ['s_time', '-connect', `127.0.0.1:${port}`, '-CAfile', caFile, '-tls1_3', mode, '-time', String(seconds)], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c));
      p.on('close', () => {
        // "1234 connections in 3.01s; 410.00 connections/user sec" and "1234 connections in 4 real seconds"
        const m = /(\d+) connections in (\d+) real seconds/.exec(out);
        resolve(m ? Number(m[1]) / Number(m[2]) : 0);
      });
    });
  const rates = await Promise.all(Array.from({ length: parallel }, one));
  return rates.reduce((a, b) => a + b, 0);
}

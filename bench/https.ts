// HTTPS scenarios (issue 6) for bench/run.ts: the same route over plain HTTP and over HTTPS with keep-alive
// on one gateway in the same run (target: HTTPS >= 0.8x), and new TLS handshakes per second, full and resumed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import type { ChildProcess } from 'node:child_process';
import { createCa, issueCertificate } from '../src/tls/dev-certs.ts';

interface Result { name: string; rps: number; p50: number; p99: number; errors: number }
interface Helpers {
  upstream: string;
  tmp: string;
  definition(upstream: string): { settings: object; apis: Array<{ name: string; stages: object; routes: object[] } & Record<string, unknown>> };
  startGateway(name: string, def: object, env?: Record<string, string>, extraArgs?: string[]): Promise<{ url: string; adminUrl: string; proc: ChildProcess }>;
  freePort(): Promise<number>;
  waitPort(port: number): Promise<void>;
  stop(p: ChildProcess): Promise<void>;
  load(name: string, url: string, opts?: { headers?: Record<string, string> }): Promise<Result>;
}

export async function runHttpsScenarios(h: Helpers, results: Result[], notes: string[]): Promise<void> {
  const dir = join(h.tmp, 'https-certs');
  mkdirSync(dir, { recursive: true });
  const ca = await createCa('Bench CA');
  const server = await issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], usage: 'server' });
  writeFileSync(join(dir, 'server.pem'), server.cert + ca.cert);
  writeFileSync(join(dir, 'server-key.pem'), server.key);
  const d = h.definition(h.upstream);
  const def = {
    ...d,
    domains: [{ name: 'localhost', certificate: { cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') }, basePathMappings: [{ api: 'bench', stage: 'prod' }] }],
  };
  const httpsPort = await h.freePort();
  // serve: the plain listener answers too, so both transports reach the same route of the same process.
  const g = await h.startGateway('https', def, {}, ['--https-listen', `127.0.0.1:${httpsPort}`, '--http-mode', 'serve']);
  await h.waitPort(httpsPort);
  const plainPort = new URL(g.url).port;
  const plain = await h.load('same route, plain HTTP (custom domain)', `http://localhost:${plainPort}/bench`);
  const secure = await h.load('same route, HTTPS keep-alive (TLS 1.3)', `https://localhost:${httpsPort}/bench`);
  results.push(plain, secure);
  notes.push(`HTTPS keep-alive: ${(secure.rps / plain.rps).toFixed(2)}x plain HTTP on the same route (target >= 0.8x)`);

  for (const resumed of [false, true]) {
    const rate = await handshakesPerSecond(httpsPort, ca.cert, resumed, 3000);
    notes.push(`new TLS handshakes per second (${resumed ? 'resumed, session tickets' : 'full, ECDSA P-256'}): ${rate.perSecond.toFixed(0)}${resumed ? ` (${rate.resumedShare.toFixed(0)}% resumed)` : ''}, 16 concurrent clients in the bench process`);
  }
  await h.stop(g.proc);
}

/** Connects, completes the handshake, closes; repeatedly, from 16 concurrent loops. */
async function handshakesPerSecond(port: number, ca: string, resume: boolean, ms: number): Promise<{ perSecond: number; resumedShare: number }> {
  let done = 0;
  let resumedCount = 0;
  const until = Date.now() + ms;
  const loop = async () => {
    let session: Buffer | undefined;
    while (Date.now() < until) {
      await new Promise<void>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca, session: resume ? session : undefined, minVersion: 'TLSv1.3' });
        s.once('session', (buf: Buffer) => {
          session = buf;
          // TLS 1.3 sends tickets after the handshake: wait for one, then close.
          if (s.isSessionReused()) resumedCount++;
          done++;
          s.destroy();
          resolve();
        });
        s.once('error', reject);
      });
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: 16 }, loop));
  return { perSecond: (done * 1000) / (Date.now() - started), resumedShare: done ? (resumedCount * 100) / done : 0 };
}

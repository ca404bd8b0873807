// A real redis-server of a test's own, on its own port (`redis-server --port N --save ''`), that the test
// can stop (SIGKILL, as an outage) and start again on the same port.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export interface OwnRedis {
  readonly port: number;
  readonly url: string;
  start(): Promise<void>;
  /** Kills the server (SIGKILL: no goodbye to clients) and waits for it to exit. */
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
// Never leave a redis-server behind, even when the run is cut short.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

/** Starts a redis-server on a free port (retrying when another process grabs the port first). */
export async function startOwnRedis(): Promise<OwnRedis> {
  let child: ChildProcess | undefined;
  let port = 0;
  const start = async (): Promise<void> => {
    const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    children.add(c);
    c.on('exit', () => children.delete(c));
    c.on('error', () => {}); // seen as exitCode below
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (c.exitCode !== null || c.signalCode !== null) throw new Error(`redis-server on port ${port} exited (${c.exitCode ?? c.signalCode})`);
      const probe = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => {});
      let ours = false;
      try {
        await probe.connect();
        // Another run's server may hold the port: only our own child counts.
        ours = new RegExp(`^process_id:${c.pid}\\r?$`, 'm').test(await probe.info('server'));
      } catch {
        // not up yet
      } finally {
        probe.disconnect();
      }
      if (ours) break;
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`redis-server did not accept connections on port ${port} within 10 s`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    child = c;
  };
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    async stop() {
      const c = child;
      if (c === undefined || c.exitCode !== null || c.signalCode !== null) return;
      const exited = once(c, 'exit');
      c.kill('SIGKILL');
      await exited;
    },
  };
}

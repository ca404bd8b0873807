// Test harness: a real gateway (startGateway) on port 0 with a temp data dir, a captured access log,
// a known admin token, and small raw-HTTP helpers for requests a normal client would refuse to send.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { PassThrough } from 'node:stream';
import { stringify } from 'yaml';
import { startGateway, type RunningGateway, type StartOptions } from '../../src/server/start.ts';

export const ADMIN_TOKEN = 'pcat_test_' + 'a'.repeat(40);
/** Every node of a test cluster shares one master key, as a real cluster must (32 bytes, base64). */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');

export interface TestGateway {
  readonly url: string;
  readonly port: number;
  readonly adminUrl: string;
  readonly dir: string;
  readonly configFile: string;
  readonly gateway: RunningGateway;
  /** Access-log lines written so far. */
  readonly logLines: string[];
  writeConfig(definition: unknown): Promise<void>;
  close(): Promise<void>;
}

export async function startTestGateway(
  definition: unknown,
  extra: Partial<StartOptions> = {},
): Promise<TestGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-test-'));
  const configFile = join(dir, 'definition.yaml');
  const write = (def: unknown) => writeFile(configFile, typeof def === 'string' ? def : stringify(def));
  await write(definition);
  const logLines: string[] = [];
  const stream = new PassThrough();
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8');
    let nl;
    while ((nl = pending.indexOf('\n')) !== -1) {
      logLines.push(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  const gateway = await startGateway({
    configFile,
    dataDir: dir,
    listen: { host: '127.0.0.1', port: 0 },
    adminListen: { host: '127.0.0.1', port: 0 },
    env: { PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN, PORTCULLIS_LOG_LEVEL: 'silent', PORTCULLIS_MASTER_KEY: TEST_MASTER_KEY },
    print: () => {},
    accessLogDestination: { stream },
    watchConfig: false,
    drainTimeoutMs: 2000,
    ...extra,
  });
  return {
    url: gateway.gatewayUrl,
    port: Number(new URL(gateway.gatewayUrl).port),
    adminUrl: gateway.adminUrl,
    dir,
    configFile,
    gateway,
    logLines,
    writeConfig: write,
    async close() {
      await gateway.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP/1.1 request with node:http (no URL normalisation: the path is sent as given). */
export function request(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent | false } = {},
): Promise<SimpleResponse> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, path, method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Sends bytes as they are and returns everything the server answers until it closes or goes quiet. */
export function rawRequest(port: number, data: string | Buffer, quietMs = 300): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    socket.on('connect', () => {
      socket.write(data);
      arm();
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      arm();
    });
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', (err) => (chunks.length ? finish() : reject(err)));
  });
}

export function statusOf(raw: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : 0;
}

/** Polls until fn returns a truthy value or the deadline passes (for asynchronous convergence only). */
export async function eventually<T>(fn: () => Promise<T> | T, timeoutMs = 5000, stepMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export async function startServer(handler: http.RequestListener): Promise<{ url: string; port: number; server: http.Server; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

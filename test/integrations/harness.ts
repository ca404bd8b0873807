// Test harness for integrations: real upstream node:http servers on port 0, and a minimal gateway that
// builds a RequestContext from a real request, calls one IntegrationFn and renders a Denial as JSON.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { RESPONSE_TYPES } from '../../src/core/gateway-responses.ts';
import type { Denial } from '../../src/core/denial.ts';
import { applyGatewayHeaders, closeInFlight, RequestContext } from '../../src/gateway/pipeline/context.ts';
import type { IntegrationFn } from '../../src/gateway/integrations/types.ts';

export interface Upstream {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  /** TCP connections accepted so far. */
  connections: number;
  /** Requests whose head was received. */
  requests: number;
  close(): Promise<void>;
}

/** A real upstream; every socket is destroyed on close so the process can exit. */
export async function startUpstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Upstream> {
  const server = http.createServer(handler);
  const sockets = new Set<net.Socket>();
  const up = {
    url: '',
    port: 0,
    server,
    connections: 0,
    requests: 0,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  server.on('connection', (s) => {
    up.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('request', () => up.requests++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  up.port = (server.address() as net.AddressInfo).port;
  up.url = `http://127.0.0.1:${up.port}`;
  return up;
}

export interface Outcome {
  readonly ctx: RequestContext;
  readonly denial: Denial | undefined;
}

export interface TestGateway {
  readonly url: string;
  readonly port: number;
  /** One entry per request, in the order integrations settled. */
  readonly outcomes: Outcome[];
  /** Resolves with the next settled outcome. */
  next(): Promise<Outcome>;
  close(): Promise<void>;
}

export interface TestGatewayOptions {
  /** Route template inside the gateway ('/items/{id}', '/files/{proxy+}'); default matches any path. */
  readonly route?: string;
  readonly stageVariables?: Record<string, string>;
}

/**
 * Mimics the dispatcher: queues x-amzn-RequestId in ctx.gatewayHeaders before the integration, fills pathParameters the way
 * the router does (each segment percent-decoded; a greedy parameter takes the rest), renders denials.
 */
export async function startTestGateway(integration: IntegrationFn, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const outcomes: Outcome[] = [];
  const waiters: Array<(o: Outcome) => void> = [];
  const match = compileRoute(options.route);
  let seq = 0;
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const requestId = `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;
    const ctx = new RequestContext({
      req,
      res,
      requestId,
      extendedRequestId: `ext${seq}`,
      requestTimeEpoch: Date.now(),
      startedAt: performance.now(),
      rawPath,
      rawQuery: q === -1 ? '' : url.slice(q + 1),
      sourceIp: req.socket.remoteAddress ?? '',
      secureTransport: false,
      domainName: 'localhost',
    });
    ctx.gatewayHeaders.push('x-amzn-RequestId', requestId);
    ctx.stageVariables = options.stageVariables ?? {};
    const params = match(rawPath);
    if (params === null) {
      res.writeHead(404).end();
      return;
    }
    ctx.pathParameters = params;
    res.on('close', () => closeInFlight(ctx)); // the dispatcher's part
    try {
      integration(ctx, (_ctx, denial) => {
        if (denial) render(ctx, denial);
        const outcome = { ctx, denial };
        outcomes.push(outcome);
        waiters.shift()?.(outcome);
      });
    } catch (err) {
      console.error('integration threw', err);
      res.destroy();
    }
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    outcomes,
    next: () => new Promise((resolve) => waiters.push(resolve)),
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

function render(ctx: RequestContext, denial: Denial): void {
  const { req, res } = ctx;
  if (res.headersSent || res.destroyed) return;
  const info = RESPONSE_TYPES[denial.type];
  const body = JSON.stringify({ message: denial.message === undefined ? info.message : denial.message, type: denial.type, detail: denial.detail });
  applyGatewayHeaders(ctx);
  if (!req.complete && (req.headers['content-length'] ?? '0') !== '0') res.setHeader('connection', 'close');
  if (!req.complete && req.headers['transfer-encoding'] !== undefined) res.setHeader('connection', 'close');
  res.writeHead(denial.status ?? info.status ?? 500, {
    'content-type': 'application/json',
    'x-amzn-ErrorType': info.errorType,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function compileRoute(route: string | undefined): (rawPath: string) => Record<string, string> | null {
  if (route === undefined) return () => ({});
  const parts = route.split('/').slice(1);
  return (rawPath) => {
    const segs = rawPath.split('/').slice(1);
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (p.startsWith('{') && p.endsWith('+}')) {
        if (i >= segs.length) return null;
        params[p.slice(1, -2)] = segs.slice(i).map((s) => decodeURIComponent(s)).join('/');
        return params;
      }
      if (i >= segs.length) return null;
      if (p.startsWith('{')) params[p.slice(1, -1)] = decodeURIComponent(segs[i]);
      else if (p !== segs[i]) return null;
    }
    return segs.length === parts.length ? params : null;
  };
}

export interface RawResponse {
  /** Everything the server sent before closing (or before the timeout). */
  readonly text: string;
  readonly head: string;
  readonly status: number;
  readonly headers: Array<[string, string]>;
  readonly body: string;
}

/** Sends raw bytes and reads until the server closes (requests should carry Connection: close). */
export async function rawRequest(port: number, data: string | Buffer): Promise<RawResponse> {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  socket.write(data);
  await once(socket, 'close');
  return parseRaw(Buffer.concat(chunks).toString('latin1'));
}

export function parseRaw(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const lines = head.split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = lines.slice(1).map((l): [string, string] => {
    const c = l.indexOf(':');
    return [l.slice(0, c).toLowerCase(), l.slice(c + 1).trim()];
  });
  return { text, head, status, headers, body: end === -1 ? '' : text.slice(end + 4) };
}

export function header(r: RawResponse, name: string): string[] {
  return r.headers.filter(([k]) => k === name).map(([, v]) => v);
}

/** A Readable producing `total` bytes from one reused chunk (nothing large is ever allocated). */
export function* byteChunks(total: number, size = 65_536): Generator<Buffer> {
  const chunk = Buffer.alloc(size, 97);
  let left = total;
  while (left > 0) {
    const n = Math.min(size, left);
    left -= n;
    yield n === size ? chunk : chunk.subarray(0, n);
  }
}

export function rssMb(): number {
  return process.memoryUsage().rss / 1048576;
}

/** V8's gc(), exposed at run time so garbage from 100 MB of socket reads does not read as buffering. */
const gc: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
})();

/** Samples rss (collecting garbage first) until stop(); returns the peak growth over the start, in MB. */
export function watchRss(): { stop(): number } {
  gc();
  const start = rssMb();
  let peak = start;
  const timer = setInterval(() => {
    gc();
    peak = Math.max(peak, rssMb());
  }, 25);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rssMb());
      return peak - start;
    },
  };
}

// The benchmark's 1.0x reference: a bare reverse proxy on one undici Pool, streaming the same way as the
// gateway's http-proxy integration (dispatch handler writing into res) with only hop-by-hop removal.
// Library: startBareProxy(); CLI: node --import tsx bench/bare-proxy.ts --upstream http://127.0.0.1:3000 --port 8081
import http, { type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Pool, type Dispatcher } from 'undici';

export interface BareProxyOptions {
  /** Upstream origin, for example http://127.0.0.1:3000. */
  readonly upstream: string;
  /** 0 = any free port. */
  readonly port?: number;
  readonly host?: string;
}

export interface RunningBareProxy {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const SKIP_REQUEST = new Set([...HOP_BY_HOP, 'host', 'expect']);

export async function startBareProxy({ upstream, port = 0, host = '127.0.0.1' }: BareProxyOptions): Promise<RunningBareProxy> {
  const pool = new Pool(new URL(upstream).origin, { pipelining: 1, connections: null, keepAliveTimeout: 4_000 });
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const headers: string[] = [];
    const h = req.headers;
    for (const name in h) {
      if (SKIP_REQUEST.has(name)) continue;
      const v = h[name];
      if (typeof v === 'string') headers.push(name, v);
      else if (v !== undefined) for (const x of v) headers.push(name, x);
    }
    const hasBody = (h['content-length'] !== undefined && h['content-length'] !== '0') || h['transfer-encoding'] !== undefined;
    const handler = new BareHandler(res);
    res.on('close', handler.onClientClose);
    pool.dispatch(
      { path: req.url ?? '/', method: req.method ?? 'GET', headers, body: hasBody ? req : null, headersTimeout: 29_000, bodyTimeout: 29_000 },
      handler,
    );
  });
  server.listen(port, host);
  await once(server, 'listening');
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}`,
    port: actual,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
      await pool.close();
    },
  };
}

class BareHandler implements Dispatcher.DispatchHandler {
  readonly res: ServerResponse;
  abort: ((err?: Error) => void) | null = null;
  resume: (() => void) | null = null;
  done = false;

  constructor(res: ServerResponse) {
    this.res = res;
  }

  readonly onClientClose = (): void => {
    if (!this.done) {
      this.done = true;
      this.abort?.(new Error('client closed'));
    }
  };

  readonly onDrain = (): void => {
    this.resume?.();
  };

  onConnect(abort: (err?: Error) => void): void {
    if (this.done) abort(new Error('client closed'));
    else this.abort = abort;
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true;
    this.resume = resume;
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toString('latin1');
      if (HOP_BY_HOP.has(name.toLowerCase())) continue;
      out.push(name, raw[i + 1].toString('latin1'));
    }
    this.res.writeHead(statusCode, out);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.onDrain);
    return false;
  }

  onComplete(): void {
    this.done = true;
    this.res.end();
  }

  onError(_err: Error): void {
    if (this.done) return;
    this.done = true;
    if (this.res.headersSent) this.res.destroy();
    else this.res.writeHead(502, { 'content-type': 'application/json' }).end('{"message":"Bad Gateway"}');
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const proxy = await startBareProxy({
    upstream: arg('upstream') ?? 'http://127.0.0.1:3000',
    port: Number(arg('port') ?? 8081),
    host: arg('host') ?? '127.0.0.1',
  });
  console.log(`bare proxy on ${proxy.url} -> ${arg('upstream') ?? 'http://127.0.0.1:3000'}`);
  process.on('SIGTERM', () => void proxy.close().then(() => process.exit(0)));
  process.on('SIGINT', () => void proxy.close().then(() => process.exit(0)));
}

// A tiny, fast upstream for benchmarks: every request gets 200 with a fixed JSON body (request bodies
// are drained). Library: startUpstream(); CLI: node --import tsx bench/upstream.ts --port 3000 [--body-bytes N]
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';

export interface UpstreamOptions {
  /** 0 = any free port. */
  readonly port?: number;
  readonly host?: string;
  /** Size of the JSON body; the default is a small greeting. */
  readonly bodyBytes?: number;
}

export interface RunningUpstream {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startUpstream({ port = 0, host = '127.0.0.1', bodyBytes }: UpstreamOptions = {}): Promise<RunningUpstream> {
  const body = makeBody(bodyBytes);
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (req.complete) send(res);
    else {
      req.on('end', () => send(res));
      req.resume();
    }
  });
  function send(res: http.ServerResponse): void {
    res.writeHead(200, headers);
    res.end(body);
  }
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
    },
  };
}

function makeBody(bytes: number | undefined): Buffer {
  const base = '{"message":"hello from upstream"}';
  if (bytes === undefined || bytes <= base.length) return Buffer.from(base);
  const pad = bytes - '{"message":"hello from upstream","pad":""}'.length;
  return Buffer.from(`{"message":"hello from upstream","pad":"${'x'.repeat(Math.max(0, pad))}"}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const up = await startUpstream({
    port: Number(arg('port') ?? 3000),
    host: arg('host') ?? '127.0.0.1',
    bodyBytes: arg('body-bytes') === undefined ? undefined : Number(arg('body-bytes')),
  });
  console.log(`upstream listening on ${up.url}`);
  process.on('SIGTERM', () => void up.close().then(() => process.exit(0)));
  process.on('SIGINT', () => void up.close().then(() => process.exit(0)));
}

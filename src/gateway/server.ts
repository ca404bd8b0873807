// The data-plane HTTP listener: Node's strict parser (no lenient mode), AWS-style answers to requests
// the parser rejects, and a drain that lets in-flight requests finish before the process exits.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface GatewayServerOptions {
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Upper bound for the request head the parser accepts; the dispatcher enforces the finer limit. */
  readonly maxHeaderSize?: number;
  readonly keepAliveTimeoutMs?: number;
  /** Time allowed to receive the request head (slowloris guard). */
  readonly headersTimeoutMs?: number;
  /** Time allowed to receive the whole request, 0 = off (bodies stream to the upstream). */
  readonly requestTimeoutMs?: number;
  readonly onClientError?: (err: NodeJS.ErrnoException) => void;
}

export interface GatewayServer {
  readonly server: http.Server;
  listen(host: string, port: number): Promise<{ host: string; port: number }>;
  /** Stops accepting, lets in-flight requests finish for up to timeoutMs, then closes the rest. */
  drain(timeoutMs: number): Promise<{ forced: number }>;
  readonly draining: boolean;
}

const PARSER_ANSWERS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'RequestHeaderFieldsTooLargeException'],
  HPE_URI_TOO_LONG: [414, 'Request URI too long', 'UriTooLongException'],
};

export function createGatewayServer(options: GatewayServerOptions): GatewayServer {
  let draining = false;
  const server = http.createServer(
    {
      maxHeaderSize: options.maxHeaderSize ?? 32 * 1024,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? 65_000,
      headersTimeout: options.headersTimeoutMs ?? 20_000,
      requestTimeout: options.requestTimeoutMs ?? 0,
      // Node already refuses HTTP/1.1 without Host, bare CR/LF, and Content-Length together with
      // Transfer-Encoding (request smuggling); insecureHTTPParser stays off.
      requireHostHeader: true,
      joinDuplicateHeaders: false,
    },
    options.handler,
  );
  // Keep-alive sockets should not outlive the load balancer's idea of them.
  server.headersTimeout = options.headersTimeoutMs ?? 20_000;

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    options.onClientError?.(err);
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, message, errorType] = PARSER_ANSWERS[err.code ?? ''] ?? [400, 'Bad Request', 'BadRequestException'];
    const body = JSON.stringify({ message });
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
        `content-type: application/json\r\nx-amzn-ErrorType: ${errorType}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  return {
    server,
    get draining() {
      return draining;
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const addr = server.address();
          resolve({ host, port: typeof addr === 'object' && addr ? addr.port : port });
        });
      });
    },
    async drain(timeoutMs) {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let forced = 0;
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
      const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
      const outcome = await Promise.race([closed.then(() => 'closed' as const), timer]);
      clearInterval(idleSweep);
      if (outcome === 'timeout') {
        forced = (server as unknown as { _connections?: number })._connections ?? 1;
        server.closeAllConnections();
        await closed;
      }
      return { forced };
    },
  };
}

// The HTTPS data-plane listener. A TCP front reads the ClientHello's server name and hands the
// connection to that custom domain's own TLS server (certificate, security policy, mTLS truststore and
// CRL are all per domain, which Node's SNICallback cannot do: it swaps only the certificate and key).
// HTTP/2 and HTTP/1.1 via ALPN. Files are watched; new material serves new connections while existing
// connections finish on the old server object.
import http2 from 'node:http2';
import net from 'node:net';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Clock } from '../core/clock.ts';
import type { DomainDefinition } from '../config/tls-schema.ts';
import type { Logger } from '../observe/logger.ts';
import { peekClientHello } from './client-hello.ts';
import { loadDomainMaterial, type DomainMaterial } from './domain-material.ts';
import { describeClientCert, type ConnectionInfo } from './client-cert.ts';
import { adaptHttp2Request } from './http2-adapter.ts';

export type ConnectionHandler = (req: IncomingMessage, res: ServerResponse, conn: ConnectionInfo) => void;

export interface CertificateExpiryObserver {
  (domain: string, certificate: 'server' | 'truststore', daysLeft: number): void;
}

export interface HttpsListenerOptions {
  readonly handler: ConnectionHandler;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Warn in the logs when a certificate expires in fewer days than this. */
  readonly expiryWarningDays?: number;
  readonly onExpiry?: CertificateExpiryObserver;
  /** Time allowed for the ClientHello, and then again for the handshake. */
  readonly handshakeTimeoutMs?: number;
  /** Idle time after which a kept-alive HTTP/1.1 connection or an HTTP/2 session without streams is closed. */
  readonly keepAliveTimeoutMs?: number;
  /** Watch certificate files (off in tests that call reload() themselves). */
  readonly watchFiles?: boolean;
  readonly watchDebounceMs?: number;
}

export interface HttpsListener {
  /** Loads the domains of a newly installed revision; unchanged material keeps its server. */
  configure(domains: readonly DomainDefinition[]): Promise<void>;
  /** Re-reads every file (what a file change does). */
  reload(): Promise<void>;
  listen(host: string, port: number): Promise<{ host: string; port: number }>;
  drain(timeoutMs: number): Promise<{ forced: number }>;
  readonly draining: boolean;
  /** Domains currently served, with the notAfter of their certificate. */
  served(): Array<{ domain: string; notAfter: string; fingerprint: string }>;
}

interface DomainEntry {
  readonly definition: DomainDefinition;
  readonly material: DomainMaterial;
  readonly server: http2.Http2SecureServer;
}

const kConn = Symbol.for('portcullis.connection');
const kInflight = Symbol('portcullis.inflight');
type TrackedSocket = TLSSocket & { [kConn]?: ConnectionInfo; [kInflight]?: number };

// RFC 8446 §6: a fatal unrecognized_name alert (112), what a TLS server sends for an unknown SNI.
const ALERT_UNRECOGNIZED_NAME = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70]);
const PLAIN_ON_TLS_BODY = '{"message":"Plain HTTP sent to an HTTPS port"}';
const PLAIN_ON_TLS_PORT =
  'HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nx-amzn-ErrorType: BadRequestException\r\n' +
  `content-length: ${Buffer.byteLength(PLAIN_ON_TLS_BODY)}\r\nconnection: close\r\n\r\n${PLAIN_ON_TLS_BODY}`;
const ALPN = ['h2', 'http/1.1'];
const DAY_MS = 86_400_000;

export function createHttpsListener(options: HttpsListenerOptions): HttpsListener {
  const { logger, clock } = options;
  const warnDays = options.expiryWarningDays ?? 30;
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
  // As the plain listener: longer than the 60 s idle timeout of common load balancers.
  const keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 65_000;
  const log = logger.child({ component: 'https' });
  let entries = new Map<string, DomainEntry>();
  let wildcards = new Map<string, DomainEntry>();
  let definitions: readonly DomainDefinition[] = [];
  let draining = false;
  const sockets = new Set<net.Socket>();
  const tlsSockets = new Set<TrackedSocket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const watchers = new Map<string, FSWatcher>();
  let watchTimer: NodeJS.Timeout | undefined;
  let loading: Promise<void> = Promise.resolve();

  const front = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    if (draining) return void socket.destroy();
    socket.setTimeout(handshakeTimeoutMs, () => socket.destroy());
    let buf: Buffer | undefined;
    const onData = (chunk: Buffer) => {
      buf = buf === undefined ? chunk : Buffer.concat([buf, chunk]);
      const peek = peekClientHello(buf);
      if (peek.kind === 'incomplete') return;
      socket.off('data', onData);
      socket.pause();
      if (peek.kind === 'not-tls') return void socket.end(PLAIN_ON_TLS_PORT);
      // Without SNI (a client that dialled an IP address) the local address names the domain.
      const name = peek.servername ?? normalizeIp(socket.localAddress ?? '');
      const entry = find(name);
      if (entry === undefined) {
        log.debug({ servername: peek.servername ?? null }, 'TLS handshake refused: no custom domain for this server name');
        return void socket.end(ALERT_UNRECOGNIZED_NAME);
      }
      // The TLS server reads what we consumed back from the socket's buffer (Node feeds a wrapped
      // socket's buffered data to the TLS engine before reading from the handle).
      socket.unshift(buf);
      // From here the domain server's handshakeTimeout applies; left armed, this timer would also end
      // established connections after that much inactivity (a slow upstream, an idle keep-alive).
      socket.setTimeout(0);
      entry.server.emit('connection', socket);
    };
    socket.on('data', onData);
  });

  function find(name: string): DomainEntry | undefined {
    const hit = entries.get(name);
    if (hit !== undefined || wildcards.size === 0) return hit;
    const dot = name.indexOf('.');
    return dot > 0 ? wildcards.get(name.slice(dot + 1)) : undefined;
  }

  function createDomainServer(definition: DomainDefinition, material: DomainMaterial): http2.Http2SecureServer {
    const server = http2.createSecureServer({
      ...material.options,
      allowHTTP1: true,
      handshakeTimeout: handshakeTimeoutMs,
      settings: { enableConnectProtocol: false },
    });
    // No inactivity timeout while a request waits for its upstream (the integration timeout governs).
    server.setTimeout(0);
    (server as unknown as { keepAliveTimeout: number }).keepAliveTimeout = keepAliveTimeoutMs;
    // Our check runs before http2's own connection listener, so a refused socket never reaches it.
    const downstream = server.listeners('secureConnection') as Array<(s: TLSSocket) => void>;
    server.removeAllListeners('secureConnection');
    server.on('secureConnection', (socket: TrackedSocket) => {
      socket.setTimeout(0);
      const mtls = definition.mtls;
      const peer = mtls ? socket.getPeerX509Certificate() : undefined;
      if (mtls && peer !== undefined && !socket.authorized) {
        // Optional mode still verifies a certificate that is presented (AWS: invalid fails the handshake).
        log.info({ domain: definition.name, reason: String(socket.authorizationError) }, 'client certificate refused');
        return void socket.destroy();
      }
      socket[kConn] = Object.freeze({
        secure: true,
        domain: definition.name,
        tlsVersion: socket.getProtocol() ?? '',
        cipherSuite: socket.getCipher()?.name ?? '',
        clientCert: peer !== undefined && socket.authorized ? describeClientCert(peer) : undefined,
      });
      socket[kInflight] = 0;
      tlsSockets.add(socket);
      socket.once('close', () => tlsSockets.delete(socket));
      for (const fn of downstream) fn.call(server, socket);
    });
    server.on('session', (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
      // Idle = no open stream for keepAliveTimeoutMs. The session timer fires once per inactivity period,
      // so it is restarted whenever the last stream closes.
      let streams = 0;
      session.on('stream', (stream: http2.ServerHttp2Stream) => {
        streams++;
        stream.once('close', () => {
          if (--streams === 0 && !session.closed) session.setTimeout(keepAliveTimeoutMs);
        });
      });
      session.on('timeout', () => {
        if (streams === 0) session.close();
      });
      session.setTimeout(keepAliveTimeoutMs);
      if (draining) session.close();
    });
    server.on('tlsClientError', (err: NodeJS.ErrnoException) => {
      log.debug({ domain: definition.name, code: err.code, reason: err.message }, 'TLS handshake failed');
    });
    server.on('request', (req: IncomingMessage | http2.Http2ServerRequest, res: ServerResponse | http2.Http2ServerResponse) => {
      const socket = req.socket as TrackedSocket;
      const conn = socket[kConn];
      if (conn === undefined) return void res.destroy();
      if ((req as IncomingMessage).httpVersionMajor === 2) {
        adaptHttp2Request(req as http2.Http2ServerRequest, res as http2.Http2ServerResponse);
      } else {
        socket[kInflight] = (socket[kInflight] ?? 0) + 1;
        if (draining) res.setHeader('connection', 'close');
        res.once('close', () => {
          socket[kInflight] = (socket[kInflight] ?? 1) - 1;
          if (draining && socket[kInflight] === 0) socket.end();
        });
      }
      options.handler(req as IncomingMessage, res as ServerResponse, conn);
    });
    return server;
  }

  function observeExpiry(domain: string, material: DomainMaterial): void {
    const report = (what: 'server' | 'truststore', notAfter: number) => {
      const days = (notAfter - clock.now()) / DAY_MS;
      options.onExpiry?.(domain, what, days);
      if (days < warnDays) {
        log.warn(
          { domain, certificate: what, daysLeft: Math.floor(days), notAfter: new Date(notAfter).toISOString() },
          days <= 0 ? `the ${what} certificate of ${domain} has expired` : `the ${what} certificate of ${domain} expires in ${Math.floor(days)} days`,
        );
      }
    };
    report('server', material.certNotAfter);
    if (material.truststoreNotAfter !== undefined) report('truststore', material.truststoreNotAfter);
  }

  async function load(domains: readonly DomainDefinition[], reason: string): Promise<void> {
    const nextExact = new Map<string, DomainEntry>();
    const nextWild = new Map<string, DomainEntry>();
    await Promise.all(
      domains.map(async (definition) => {
        const previous = find(definition.name.startsWith('*.') ? `x${definition.name.slice(1)}` : definition.name);
        const old = previous && previous.definition.name === definition.name ? previous : undefined;
        let entry = old;
        try {
          const material = await loadDomainMaterial(definition, ALPN);
          if (old === undefined || old.material.fingerprint !== material.fingerprint) {
            entry = { definition, material, server: createDomainServer(definition, material) };
            if (old !== undefined) log.info({ domain: definition.name, reason }, `new TLS material for ${definition.name} serves new connections`);
          }
          observeExpiry(definition.name, material);
          for (const w of material.warnings) log.warn({ domain: definition.name }, w);
        } catch (err) {
          log.error(
            { domain: definition.name, reason },
            `${(err as Error).message}; ${old ? 'the previous certificate keeps serving' : `${definition.name} is not served over HTTPS until this is fixed`}`,
          );
        }
        if (entry === undefined) return;
        if (definition.name.startsWith('*.')) nextWild.set(definition.name.slice(2), entry);
        else nextExact.set(definition.name, entry);
      }),
    );
    entries = nextExact;
    wildcards = nextWild;
    definitions = domains;
    if (options.watchFiles !== false) rewatch();
  }

  function rewatch(): void {
    const wanted = new Map<string, Set<string>>();
    for (const e of [...entries.values(), ...wildcards.values()]) {
      for (const f of e.material.files) {
        const set = wanted.get(dirname(f)) ?? new Set();
        set.add(basename(f));
        wanted.set(dirname(f), set);
      }
    }
    for (const [dir, w] of watchers) {
      if (!wanted.has(dir)) {
        w.close();
        watchers.delete(dir);
      }
    }
    for (const [dir, names] of wanted) {
      watchers.get(dir)?.close();
      // Watch directories: certificate tools replace files by rename, which ends a watch on the file.
      try {
        const w = watch(dir, (_event, name) => {
          if (name && !names.has(name.toString())) return;
          clearTimeout(watchTimer);
          watchTimer = setTimeout(() => void reload('file changed'), options.watchDebounceMs ?? 200);
        });
        w.on('error', () => {});
        watchers.set(dir, w);
      } catch (err) {
        log.warn({ dir, err: String(err) }, 'cannot watch certificate directory; send SIGHUP after replacing files');
      }
    }
  }

  function reload(reason: string): Promise<void> {
    loading = loading.then(() => load(definitions, reason));
    return loading;
  }

  const expiryTimer = setInterval(() => {
    for (const e of [...entries.values(), ...wildcards.values()]) observeExpiry(e.definition.name, e.material);
  }, 6 * 3600_000);
  expiryTimer.unref();

  return {
    get draining() {
      return draining;
    },
    configure(domains) {
      loading = loading.then(() => load(domains, 'revision installed'));
      return loading;
    },
    reload: () => reload('reload requested'),
    served() {
      return [...entries.values(), ...wildcards.values()].map((e) => ({
        domain: e.definition.name,
        notAfter: e.material.certificate.validTo,
        fingerprint: e.material.certificate.fingerprint256,
      }));
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        front.once('error', reject);
        front.listen(port, host, () => {
          front.off('error', reject);
          const addr = front.address();
          resolve({ host, port: typeof addr === 'object' && addr ? addr.port : port });
        });
      });
    },
    async drain(timeoutMs) {
      draining = true;
      clearInterval(expiryTimer);
      clearTimeout(watchTimer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
      const closed = new Promise<void>((resolve) => front.close(() => resolve()));
      for (const s of sessions) s.close();
      const sweep = () => {
        for (const s of tlsSockets) if (s.alpnProtocol !== 'h2' && !s[kInflight]) s.end();
      };
      sweep();
      const idleSweep = setInterval(sweep, 100);
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
      const outcome = await Promise.race([closed.then(() => 'closed' as const), timer]);
      clearInterval(idleSweep);
      let forced = 0;
      if (outcome === 'timeout') {
        forced = sockets.size;
        for (const s of sockets) s.destroy();
        await closed;
      }
      return { forced };
    },
  };
}

function normalizeIp(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

// One undici connection pool per upstream origin, shared by every snapshot so a redeploy keeps warm
// keep-alive connections; closed once, on shutdown.
import { Pool } from 'undici';
import type { ResolvedUpstreamTls } from './upstream-tls.ts';

export interface UpstreamPoolsOptions {
  /** Most sockets per origin; null = unbounded (requests never queue inside the gateway). */
  readonly connections?: number | null;
  /** Idle keep-alive time when the upstream sends no Keep-Alive hint. */
  readonly keepAliveTimeoutMs?: number;
  /** Ceiling on an upstream's Keep-Alive: timeout=N hint. */
  readonly keepAliveMaxTimeoutMs?: number;
  /** TCP (+TLS) connect timeout for pools requested without their own. */
  readonly connectTimeoutMs?: number;
  /** Largest upstream response head accepted. */
  readonly maxHeaderSize?: number;
  /** Verify upstream TLS certificates (https origins). Turn off only for tests. */
  readonly rejectUnauthorized?: boolean;
  /** Called when a pool that does not verify its upstream's certificate is created (integration.tls). */
  readonly onInsecure?: (origin: string) => void;
}

export interface UpstreamPools {
  /**
   * The pool for an origin ('http://host:port'), created on first use. Routes asking for another
   * connect timeout get their own pool for that origin (undici sets the connect timeout per pool).
   */
  get(origin: string, connectTimeoutMs?: number, tls?: ResolvedUpstreamTls): Pool;
  /** Number of pools created so far. */
  readonly size: number;
  /** Graceful: waits for requests in flight, then closes every socket. get() throws afterwards. */
  close(): Promise<void>;
  /** Immediate: fails requests in flight. */
  destroy(): Promise<void>;
}

export function createUpstreamPools({
  connections = null,
  keepAliveTimeoutMs = 4_000,
  keepAliveMaxTimeoutMs = 600_000,
  connectTimeoutMs = 10_000,
  maxHeaderSize = 16_384,
  rejectUnauthorized = true,
  onInsecure,
}: UpstreamPoolsOptions = {}): UpstreamPools {
  const pools = new Map<string, Pool>();
  let closed = false;

  function create(origin: string, timeout: number, tls: ResolvedUpstreamTls | undefined): Pool {
    if (tls !== undefined && !tls.rejectUnauthorized) onInsecure?.(origin);
    return new Pool(origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: keepAliveTimeoutMs,
      keepAliveMaxTimeout: keepAliveMaxTimeoutMs,
      maxHeaderSize,
      connect:
        tls === undefined
          ? { timeout, rejectUnauthorized }
          : { timeout, rejectUnauthorized: tls.rejectUnauthorized, ca: tls.ca, cert: tls.cert, key: tls.key, servername: tls.servername },
    });
  }

  async function each(fn: (pool: Pool) => Promise<void>): Promise<void> {
    closed = true;
    const all = [...pools.values()];
    pools.clear();
    await Promise.allSettled(all.map(fn));
  }

  return {
    get(origin, timeout = connectTimeoutMs, tls) {
      let key = timeout === connectTimeoutMs ? origin : `${origin} ${timeout}`;
      if (tls !== undefined) key += ` tls:${tls.id}`;
      let pool = pools.get(key);
      if (pool === undefined) {
        if (closed) throw new Error('upstream pools are closed');
        pool = create(origin, timeout, tls);
        pools.set(key, pool);
      }
      return pool;
    },
    get size() {
      return pools.size;
    },
    close: () => each((p) => p.close()),
    destroy: () => each((p) => p.destroy()),
  };
}

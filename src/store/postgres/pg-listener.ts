// LISTEN side of PostgreSQL change notification: one dedicated connection per store that reconnects by
// itself (exponential backoff with jitter) after a connection loss and re-issues LISTEN for every channel.
import pg from 'pg';
import { dispatch } from '../adapter-kit.ts';
import { quoteIdentifier } from './pg-names.ts';

export type NotifierStatus = 'connected' | 'disconnected';

export interface PgListenerOptions {
  readonly clientConfig: pg.ClientConfig;
  /**
   * Told 'connected' on every successful (re)connection and 'disconnected' on a loss and on each failed
   * reconnection attempt. PostgreSQL does not replay notifications sent while the connection was down, so a
   * consumer should re-read the state it caches on 'connected' after a loss.
   */
  readonly onStatus?: (status: NotifierStatus, error?: Error) => void;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
}

export interface PgListener {
  /** Resolves once LISTEN is in place, so a NOTIFY sent afterwards is heard. */
  listen(channel: string, listener: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export function createPgListener({
  clientConfig,
  onStatus = () => {},
  initialDelayMs = 100,
  maxDelayMs = 5000,
}: PgListenerOptions): PgListener {
  const channels = new Map<string, Set<(payload: string) => void>>();
  let client: pg.Client | undefined; // connected, LISTENs issued
  let connecting: Promise<pg.Client> | undefined;
  let everConnected = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let closed = false;

  async function connectOnce(): Promise<pg.Client> {
    const c = new pg.Client(clientConfig);
    c.on('notification', (msg) => {
      const set = channels.get(msg.channel);
      if (set && !closed) dispatch(set, msg.payload ?? '');
    });
    // pg emits 'error' (and then 'end') on an idle client whose connection dies; without a handler the
    // process would crash.
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c));
    try {
      await c.connect();
      for (const channel of channels.keys()) await c.query(`LISTEN ${quoteIdentifier(channel)}`);
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    if (closed) {
      await c.end().catch(() => undefined);
      throw new Error('PostgreSQL change listener is closed');
    }
    client = c;
    return c;
  }

  function ensureClient(): Promise<pg.Client> {
    if (client) return Promise.resolve(client);
    connecting ??= connectOnce()
      .then((c) => {
        everConnected = true;
        attempt = 0;
        onStatus('connected');
        return c;
      })
      .finally(() => {
        connecting = undefined;
      });
    return connecting;
  }

  function lost(c: pg.Client, err?: Error): void {
    if (client !== c || closed) return;
    client = undefined;
    onStatus('disconnected', err);
    c.end().catch(() => undefined);
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    // With no channel to hear there is nothing to restore; the next listen() connects again.
    if (closed || retryTimer || channels.size === 0) return;
    const delay = Math.min(maxDelayMs, initialDelayMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed || client || channels.size === 0) return;
      ensureClient().catch((err: Error) => {
        onStatus('disconnected', err);
        scheduleReconnect();
      });
    }, delay);
    // Reconnecting alone must not keep a process alive that has nothing else to do.
    retryTimer.unref();
  }

  return {
    async listen(channel, listener) {
      if (closed) throw new Error('PostgreSQL change listener is closed');
      let set = channels.get(channel);
      if (!set) {
        set = new Set();
        channels.set(channel, set);
      }
      // A wrapper per subscription, so subscribing one function twice needs two unsubscribes.
      const entry = (payload: string): void => listener(payload);
      set.add(entry);
      const unsubscribe = async (): Promise<void> => {
        const current = channels.get(channel);
        if (!current || !current.delete(entry)) return;
        if (current.size > 0) return;
        channels.delete(channel);
        if (client) await client.query(`UNLISTEN ${quoteIdentifier(channel)}`).catch(() => undefined);
      };
      try {
        // LISTEN is idempotent; issuing it for every subscription (not only the first on a channel) makes
        // sure it has completed before this call resolves, even when another subscriber's LISTEN is in flight.
        const c = await ensureClient();
        await c.query(`LISTEN ${quoteIdentifier(channel)}`);
      } catch (err) {
        if (!everConnected || closed) {
          await unsubscribe();
          throw err;
        }
        // The connection dropped under us: the reconnect loop will LISTEN on every channel still wanted.
        scheduleReconnect();
      }
      return unsubscribe;
    },
    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      channels.clear();
      const c = client;
      client = undefined;
      if (connecting) await connecting.catch(() => undefined);
      if (c) await c.end().catch(() => undefined);
    },
  };
}

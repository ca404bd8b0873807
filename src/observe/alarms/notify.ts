// Alarm notifications to webhooks: one JSON POST per state change, shaped like CloudWatch's alarm message,
// signed with HMAC-SHA256 so a receiver can check it came from this gateway and was not replayed late.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { request } from 'undici';

export const SIGNATURE_HEADER = 'x-portcullis-signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>` (the timestamp lets receivers refuse replays). */
export function signPayload(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** What a receiver does: recompute the MAC over the raw body and compare in constant time. */
export function verifySignature(secret: string, body: string, header: string, nowSeconds: number, toleranceSeconds = 300): boolean {
  const m = /^t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  const t = Number(m[1]);
  if (Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signPayload(secret, body, t).slice(-64), 'hex');
  return timingSafeEqual(expected, Buffer.from(m[2]!, 'hex'));
}

export interface WebhookTarget {
  readonly name: string;
  readonly url: string;
  /** The HMAC key (read from the environment variable the definition names); absent: unsigned. */
  readonly secret?: string;
  readonly timeoutMs: number;
}

export interface Notifier {
  send(target: WebhookTarget, payload: unknown, nowMs: number): void;
  /** Resolves when every queued notification was delivered or given up on. */
  idle(): Promise<void>;
}

/**
 * Deliveries run in the background with up to `retries` retries (backoff 0.5 s, 1 s, 2 s); at most
 * `maxPending` are in flight or waiting, past which a notification is dropped and counted.
 */
export function createNotifier({
  retries = 3,
  maxPending = 1000,
  onResult,
}: {
  retries?: number;
  maxPending?: number;
  onResult?: (target: string, result: 'delivered' | 'failed' | 'dropped', detail?: string) => void;
} = {}): Notifier {
  const pending = new Set<Promise<void>>();

  async function deliver(target: WebhookTarget, body: string, nowMs: number): Promise<void> {
    let last = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'portcullis-alarms' };
        if (target.secret) headers[SIGNATURE_HEADER] = signPayload(target.secret, body, Math.floor(nowMs / 1000));
        const res = await request(target.url, {
          method: 'POST',
          headers,
          body,
          headersTimeout: target.timeoutMs,
          bodyTimeout: target.timeoutMs,
        });
        await res.body.dump();
        if (res.statusCode < 300) return onResult?.(target.name, 'delivered');
        last = `HTTP ${res.statusCode}`;
        if (res.statusCode < 500 && res.statusCode !== 429) break;
      } catch (err) {
        last = (err as Error).message;
      }
      if (attempt < retries) await new Promise((r) => setTimeout(r, 500 * 2 ** attempt).unref());
    }
    onResult?.(target.name, 'failed', last);
  }

  return {
    send(target, payload, nowMs) {
      if (pending.size >= maxPending) return onResult?.(target.name, 'dropped');
      const p = deliver(target, JSON.stringify(payload), nowMs).finally(() => pending.delete(p));
      pending.add(p);
    },
    async idle() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}

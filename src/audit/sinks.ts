// Live copies of the audit trail for a SIEM: a JSON Lines file and a webhook (batched POSTs with retry). Both
// are bounded queues: when the destination is slow, lines are dropped and counted rather than held in memory.
import { createWriteStream } from 'node:fs';
import { request } from 'undici';
import type { Logger } from '../observe/logger.ts';
import type { AuditSink } from './audit-trail.ts';

export function createFileAuditSink(path: string, { onDrop }: { onDrop?: (n: number) => void } = {}): AuditSink {
  const stream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  stream.on('error', () => undefined);
  return {
    write(_event, line) {
      // Backpressure: beyond the stream's buffer the line is dropped (the store keeps the authoritative copy).
      if (stream.writableNeedDrain) onDrop?.(1);
      else stream.write(line + '\n');
    },
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}

export interface WebhookAuditSinkOptions {
  readonly url: string;
  readonly logger: Logger;
  readonly batchSize?: number;
  readonly flushMs?: number;
  readonly maxQueue?: number;
  readonly retries?: number;
  readonly onDrop?: (n: number) => void;
}

/** POSTs `application/x-ndjson` batches; retried with backoff on failure, dropped after the last attempt. */
export function createWebhookAuditSink({
  url,
  logger,
  batchSize = 100,
  flushMs = 1000,
  maxQueue = 10_000,
  retries = 3,
  onDrop,
}: WebhookAuditSinkOptions): AuditSink {
  const queue: string[] = [];
  let sending: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function send(lines: string[]): Promise<void> {
    for (let attempt = 0; attempt <= retries; attempt++) {
      try {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-ndjson' },
          body: lines.join('\n') + '\n',
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        await res.body.dump();
        if (res.statusCode < 300) return;
        if (res.statusCode < 500 && res.statusCode !== 429) break;
      } catch {
        // retried below
      }
      await new Promise((r) => setTimeout(r, 200 * 2 ** attempt).unref());
    }
    onDrop?.(lines.length);
    logger.warn({ component: 'audit', lines: lines.length }, 'audit webhook sink gave up on a batch');
  }

  function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (sending || queue.length === 0) return sending ?? Promise.resolve();
    sending = send(queue.splice(0, batchSize)).finally(() => {
      sending = undefined;
      if (queue.length) void flush();
    });
    return sending;
  }

  return {
    write(_event, line) {
      if (queue.length >= maxQueue) {
        onDrop?.(1);
        return;
      }
      queue.push(line);
      if (queue.length >= batchSize) void flush();
      else timer ??= setTimeout(() => void flush(), flushMs).unref();
    },
    async close() {
      while (queue.length || sending) await flush();
    },
  };
}

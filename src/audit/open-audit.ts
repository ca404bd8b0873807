// Builds a node's audit trail from its settings (StartOptions.audit, else the PORTCULLIS_AUDIT_* variables):
// the signing key in the data directory, reads on or off, digest interval and the live sinks.
import { readFileSync } from 'node:fs';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../observe/logger.ts';
import type { AuditStore } from '../store/audit-port.ts';
import { createAuditTrail, type AuditSink, type AuditTrail } from './audit-trail.ts';
import { loadOrCreateAuditKey } from './signing-key.ts';
import { createFileAuditSink, createWebhookAuditSink } from './sinks.ts';

export interface AuditSettings {
  /** Record successful reads as well (env PORTCULLIS_AUDIT_READS=1). */
  readonly reads?: boolean;
  /** Seconds between digests (env PORTCULLIS_AUDIT_DIGEST_INTERVAL, default 3600; 0: only on shutdown). */
  readonly digestIntervalSeconds?: number;
  /** Live JSON Lines copy (env PORTCULLIS_AUDIT_FILE). */
  readonly file?: string;
  /** Live copy POSTed as JSON Lines batches (env PORTCULLIS_AUDIT_WEBHOOK). */
  readonly webhook?: string;
  /** PEM files of other nodes' public keys that `verify` trusts (env PORTCULLIS_AUDIT_TRUSTED_KEYS, comma-separated). */
  readonly trustedKeyFiles?: readonly string[];
}

export function auditSettingsFromEnv(env: NodeJS.ProcessEnv): AuditSettings {
  const interval = env.PORTCULLIS_AUDIT_DIGEST_INTERVAL;
  if (interval !== undefined && !/^\d{1,9}$/.test(interval)) {
    throw new Error(`PORTCULLIS_AUDIT_DIGEST_INTERVAL must be a number of seconds, got ${JSON.stringify(interval)}`);
  }
  return {
    reads: env.PORTCULLIS_AUDIT_READS === '1' || env.PORTCULLIS_AUDIT_READS === 'true',
    ...(interval !== undefined ? { digestIntervalSeconds: Number(interval) } : {}),
    ...(env.PORTCULLIS_AUDIT_FILE ? { file: env.PORTCULLIS_AUDIT_FILE } : {}),
    ...(env.PORTCULLIS_AUDIT_WEBHOOK ? { webhook: env.PORTCULLIS_AUDIT_WEBHOOK } : {}),
    ...(env.PORTCULLIS_AUDIT_TRUSTED_KEYS ? { trustedKeyFiles: env.PORTCULLIS_AUDIT_TRUSTED_KEYS.split(',').filter(Boolean) } : {}),
  };
}

export function openAuditTrail(options: {
  store: AuditStore;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  logger: Logger;
  settings?: AuditSettings;
  /** Events a live sink dropped because it could not keep up (the store keeps them all). */
  onSinkDrop?: (count: number) => void;
}): AuditTrail {
  const settings = options.settings ?? auditSettingsFromEnv(options.env);
  const sinks: AuditSink[] = [];
  const onDrop = options.onSinkDrop;
  if (settings.file) sinks.push(createFileAuditSink(settings.file, { onDrop }));
  if (settings.webhook) {
    const url = new URL(settings.webhook);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('the audit webhook must be an http(s) URL');
    sinks.push(createWebhookAuditSink({ url: url.href, logger: options.logger, onDrop }));
  }
  return createAuditTrail({
    store: options.store,
    clock: options.clock,
    logger: options.logger,
    signingKey: loadOrCreateAuditKey(options.dataDir, options.env.PORTCULLIS_AUDIT_KEY_PASSPHRASE),
    auditReads: settings.reads ?? false,
    digestIntervalMs: (settings.digestIntervalSeconds ?? 3600) * 1000,
    sinks,
    extraPublicKeys: (settings.trustedKeyFiles ?? []).map((f) => readFileSync(f, 'utf8')),
  });
}

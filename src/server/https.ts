// Node composition for HTTPS: the TLS listener with its own dispatcher, certificate-expiry metrics, and
// the plain-HTTP policy (serve | refuse | redirect) of the HTTP listener, logged when insecure.
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../observe/logger.ts';
import type { GatewayMetrics } from '../observe/metrics.ts';
import type { GatewayRuntime } from '../gateway/runtime.ts';
import { createDispatcher } from '../gateway/dispatch.ts';
import type { PlainHttpMode } from '../gateway/transport.ts';
import { createHttpsListener, type HttpsListener } from '../tls/https-listener.ts';

export type { PlainHttpMode };
export const PLAIN_HTTP_MODES: readonly PlainHttpMode[] = Object.freeze(['redirect', 'refuse', 'serve']);

export interface HttpsNode {
  readonly listener: HttpsListener;
  readonly host: string;
  readonly port: number;
}

export async function startHttps(options: {
  readonly runtime: GatewayRuntime;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly listen: { host: string; port: number };
  readonly expiryWarningDays?: number;
  readonly watchFiles?: boolean;
}): Promise<HttpsNode> {
  const { runtime, logger } = options;
  const listener: HttpsListener = createHttpsListener({
    handler: createDispatcher({
      snapshot: runtime.snapshot,
      clock: options.clock,
      observer: runtime,
      secure: true,
      draining: () => listener.draining,
      onError: (err, ctx) => logger.error({ err, requestId: ctx.requestId }, 'unexpected error while handling a request'),
    }),
    logger,
    clock: options.clock,
    expiryWarningDays: options.expiryWarningDays,
    watchFiles: options.watchFiles,
    onExpiry: (domain, certificate, days) => options.metrics.setCertificateExpiry(domain, certificate, days),
  });
  await listener.configure(runtime.snapshot()?.definition.domains ?? []);
  const bound = await listener.listen(options.listen.host, options.listen.port);
  return { listener, host: bound.host, port: bound.port };
}

/** The mode of the plain listener: redirect when HTTPS is on, serve otherwise; serve is logged as insecure. */
export function plainHttpMode(requested: PlainHttpMode | undefined, httpsOn: boolean, logger: Logger): PlainHttpMode {
  const mode = requested ?? (httpsOn ? 'redirect' : 'serve');
  if (mode === 'serve') {
    logger.warn(
      { component: 'https', httpMode: 'serve' },
      'INSECURE: the plain HTTP listener serves APIs without TLS (use --https-listen, or --http-mode serve only behind a TLS-terminating trusted proxy)',
    );
  }
  return mode;
}

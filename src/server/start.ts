// Composes one gateway node: store, counters, data-plane runtime and listener, control plane, admin
// listener, the definition file watch, SIGHUP redeploys and the SIGTERM drain.
import { readFile } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { systemClock, type Clock } from '../core/clock.ts';
import { pinNextTickShape } from '../core/tick-shape.ts';
import { DefinitionError, formatProblems } from '../config/load.ts';
import { openStore } from '../store/open-store.ts';
import { openCounters } from '../store/counters/open-counters.ts';
import { counterSettingsFromEnv, describeCounters, describeFailModes } from '../store/counters/counter-settings.ts';
import { registerCounterMetrics } from '../observe/counter-metrics.ts';
import { createLogger, type Logger } from '../observe/logger.ts';
import type { LogDestination } from '../observe/destination.ts';
import { createGatewayMetrics } from '../observe/metrics.ts';
import { createAccessLogger } from '../observe/access-log.ts';
import { accessLogTargetFromEnv, endOwned, openAccessLogTarget, type AccessLogTarget } from '../observe/access-log-target.ts';
import { createUpstreamPools } from '../gateway/integrations/upstream-pools.ts';
import { createGatewayRuntime, type GatewayRuntime } from '../gateway/runtime.ts';
import { createDispatcher } from '../gateway/dispatch.ts';
import { createGatewayServer } from '../gateway/server.ts';
import { createControlPlane } from '../control/control-plane.ts';
import { createAdminServer } from '../admin/admin-server.ts';
import type { Store } from '../store/ports.ts';
import { plainHttpMode, startHttps, type HttpsNode, type PlainHttpMode } from './https.ts';
import { createKeyHasher, loadKeyHashSecret } from '../keys/key-values.ts';
import { createKeyDirectory } from '../keys/key-directory.ts';
import { createUsageRecorder, restoreQuotas } from '../keys/usage-recorder.ts';
import { createKeyService } from '../keys/key-service.ts';
import { startUsageSync } from '../keys/usage-sync.ts';
import { limitRepeats } from '../observe/repeat-limiter.ts';
import { openAuditTrail, type AuditSettings } from '../audit/open-audit.ts';
import { createExecutionLog } from '../observe/execution-log.ts';
import { createMonitor, type Monitor } from '../observe/alarms/monitor.ts';
import { openRuntimeAlarms } from '../observe/alarms/runtime-alarms.ts';
import { createSecurityMetrics } from '../observe/security-metrics.ts';
import { tracerFromSettings, type TracingSettings } from '../observe/tracing-settings.ts';
import { loadSecretBox } from '../iam/secret-box.ts';
import { createIamDirectory } from '../iam/iam-directory.ts';
import { createIamService } from '../iam/iam-service.ts';

export interface HostPort {
  host: string;
  port: number;
}

export interface StartOptions {
  configFile?: string;
  dataDir: string;
  listen?: HostPort;
  adminListen?: HostPort;
  /** `sqlite` (default, under dataDir), `sqlite:PATH` or `postgres://...` */
  storage?: string;
  /** `memory` (default) or `redis://...` */
  counters?: string;
  logLevel?: string;
  env: NodeJS.ProcessEnv;
  clock?: Clock;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (the CLI does; tests do not). */
  handleSignals?: boolean;
  /** Where the one-time bootstrap token and the banner go (default stderr). */
  print?: (line: string) => void;
  /** Access-log destination: stdout, a file (rotated by size or time), an HTTP sink, or a stream (default PORTCULLIS_ACCESS_LOG, else stdout). */
  accessLogDestination?: AccessLogTarget;
  drainTimeoutMs?: number;
  watchConfig?: boolean;
  /** HTTPS listener for the custom domains of the definition (docs/https.md). */
  httpsListen?: HostPort;
  /** What the plain HTTP listener does: redirect (default with HTTPS), refuse, or serve (insecure). */
  httpMode?: PlainHttpMode;
  /** Warn when a certificate expires within this many days (default 30). */
  certExpiryWarningDays?: number;
  /** Watch certificate files for changes (default true). */
  watchCertificates?: boolean;
  /** Audit trail settings (docs/audit.md); default from the PORTCULLIS_AUDIT_* variables. */
  audit?: AuditSettings;
  /** OpenTelemetry tracing (docs/monitoring.md); default from OTEL_EXPORTER_OTLP_* and PORTCULLIS_TRACE_*; absent: off. */
  tracing?: TracingSettings;
  /** Where the application log (and execution logs) go (default stderr). */
  logDestination?: LogDestination;
  /** How often alarms are evaluated (ms, default 5000; 0: only through monitor.evaluate()). */
  alarmEvaluationMs?: number;
}

export interface RunningGateway {
  readonly gatewayUrl: string;
  readonly adminUrl: string;
  /** https://host:port of the HTTPS listener, when there is one. */
  readonly httpsUrl?: string;
  /** Re-reads certificate, truststore and CRL files (what a file change and SIGHUP do). */
  reloadCertificates(): Promise<void>;
  readonly runtime: GatewayRuntime;
  readonly store: Store;
  readonly logger: Logger;
  /** Alarms, anomaly detection and blocks (docs/monitoring.md). */
  readonly monitor: Monitor;
  /** Redeploys the --config file (what SIGHUP and a file change do). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export async function startGateway(options: StartOptions): Promise<RunningGateway> {
  pinNextTickShape();
  const clock = options.clock ?? systemClock;
  const print = options.print ?? ((line: string) => process.stderr.write(line + '\n'));
  const logger = createLogger({
    level: options.logLevel ?? options.env.PORTCULLIS_LOG_LEVEL ?? 'info',
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const listen = options.listen ?? { host: '127.0.0.1', port: 8080 };
  const adminListen = options.adminListen ?? { host: '127.0.0.1', port: 9090 };

  const store = await openStore(options.storage ?? 'sqlite', { dataDir: options.dataDir, clock });
  const cleanups: Array<() => Promise<unknown> | unknown> = [() => store.close()];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await Promise.resolve().then(fn).catch(() => {});
  };
  try {
    // Key prefix, command timeout and the fail modes of throttles and quotas (PORTCULLIS_COUNTERS_*).
    const counterSettings = counterSettingsFromEnv(options.env);
    const counters = await openCounters(options.counters ?? 'memory', {
      ...counterSettings,
      // At most one outage line per interval (10 s), however many requests fail; recoveries always.
      onHealthChange: (ok: boolean, err?: unknown) =>
        ok
          ? logger.info({ component: 'counters' }, 'counter store reachable again')
          : logger.error({ component: 'counters', err: String(err) }, `counter store unreachable: ${describeFailModes(counterSettings)}`),
    });
    cleanups.push(() => counters.close());
    const metrics = createGatewayMetrics();
    registerCounterMetrics(metrics.registry, counters);
    // stdout, a file (optionally rotated) or an HTTP sink (docs/monitoring.md); default from PORTCULLIS_ACCESS_LOG.
    const accessLogTarget = openAccessLogTarget(options.accessLogDestination ?? accessLogTargetFromEnv(options.env), {
      clock,
      onDrop: (n: number) => metrics.countAccessLogDrop(n),
      onError: (err) => logger.warn({ component: 'access-log', err: err.message }, 'access log destination failed'),
    });
    const ownedAccessLog = accessLogTarget.owned;
    if (ownedAccessLog) cleanups.push(() => endOwned(ownedAccessLog));
    const accessLog = createAccessLogger({
      destination: accessLogTarget.destination,
      onDrop: (n: number) => metrics.countAccessLogDrop(n),
    });
    cleanups.push(() => accessLog.close());
    const pools = createUpstreamPools({
      onInsecure: (origin) => logger.warn({ component: 'upstream', origin }, `INSECURE: TLS certificates of ${origin} are not verified (integration.tls.insecureSkipVerification)`),
    });
    cleanups.push(() => pools.close());

    // API keys: only keyed hashes are stored; the directory answers the request path from memory.
    const keyHasher = createKeyHasher(await loadKeyHashSecret(options.env, store.meta));
    const keyDirectory = await createKeyDirectory({
      store: store.apiKeys,
      changes: store.changes,
      clock,
      onError: (err) => logger.warn({ component: 'api-keys', err: String(err) }, 'API key directory refresh failed; retrying'),
    });
    cleanups.push(() => keyDirectory.close());
    // Usage records: with Redis counters they are counted in Redis (by the decisions themselves where they can be)
    // and copied to the Store by one node at a time; with in-process counters the recorder writes them to the Store.
    const ledger = counters.usage;
    const usageRecorder = createUsageRecorder({
      write: ledger ? (deltas) => ledger.add(deltas) : (deltas) => store.apiKeys.addUsage(deltas),
      onError: (err) => logger.warn({ component: 'usage', err: String(err) }, 'usage records not written; retrying'),
    });
    const usageSync = ledger && startUsageSync({
      ledger,
      store: store.apiKeys,
      onError: (err) => logger.warn({ component: 'usage', err: String(err) }, 'usage records not copied from the counter store to the store; retrying'),
    });
    // Closed in reverse order: the recorder's last counts reach the ledger before the syncer's last round.
    if (usageSync) cleanups.push(() => usageSync.close());
    cleanups.push(() => usageRecorder.close());

    // IAM principals and access keys: secrets sealed under the master key; the directory serves SigV4 from memory.
    const secretBox = await loadSecretBox(options.env, options.dataDir, { shared: store.kind === 'postgres' });
    const iamDirectory = await createIamDirectory({
      store: store.iam,
      changes: store.changes,
      box: secretBox,
      clock,
      onError: (err) => logger.warn({ component: 'iam', err: String(err) }, 'IAM directory refresh failed; retrying'),
    });
    cleanups.push(() => iamDirectory.close());

    // Extra metrics from the log phase, alarms over the traffic, and optional tracing (docs/monitoring.md).
    const securityMetrics = createSecurityMetrics({
      registry: metrics.registry,
      storePing: () => store.ping(),
      perRequest: options.env.PORTCULLIS_METRICS !== 'off',
    });
    const monitor = createMonitor({
      clock,
      logger,
      env: options.env,
      registry: metrics.registry,
      // Bound late: the audit trail and the key service are created below, before any traffic.
      audit: { record: (input) => audit.record(input) },
      disableApiKey: async (keyId) => void (await apiKeys.update(keyId, { enabled: false })),
      evaluateEveryMs: options.alarmEvaluationMs,
    });
    cleanups.push(() => monitor.close());
    const tracer = tracerFromSettings(options.tracing, options.env, {
      clock,
      onDrop: (n) => securityMetrics.countTraceSpansDropped(n),
      onExportError: (err) => logger.warn({ component: 'tracing', err: err.message }, 'could not export trace spans'),
    });
    if (tracer) cleanups.push(() => tracer.close());

    let https: HttpsNode | undefined;
    const runtime = createGatewayRuntime({
      clock,
      pools,
      metrics: {
        // PORTCULLIS_METRICS=off stops per-request recording (the benchmark's baseline); /metrics still answers.
        record: options.env.PORTCULLIS_METRICS === 'off' ? () => {} : (ctx) => (metrics.record(ctx), securityMetrics.record(ctx)),
        setActiveRevision: (revision) => metrics.setActiveRevision(revision),
      },
      monitor,
      ...(tracer ? { tracer } : {}),
      accessLog,
      executionLog: createExecutionLog(logger),
      stageDeps: {
        counters,
        clock,
        keys: { directory: keyDirectory, hasher: keyHasher },
        iam: { directory: iamDirectory },
        usage: usageRecorder,
        // Once per key, plan and limit every 10 s, with the count of hits held back: a busy key must not flood the log.
        onReportOnly: limitRepeats((message: string) => logger.warn({ component: 'usage-plans' }, message), { clock }),
        // Authorizer result-cache hits and misses and JWKS refreshes, bound when routes are compiled (docs/metrics.md).
        authorizerMetrics: securityMetrics.authorizers,
        // Custom authorizers as local modules load only from the directory the node's operator names (docs/authentication.md).
        ...(options.env.PORTCULLIS_AUTHORIZER_MODULES_DIR ? { authorizerModulesDir: options.env.PORTCULLIS_AUTHORIZER_MODULES_DIR } : {}),
      },
      onInstall: (s) => {
        logger.info({ revision: s.revision, apis: s.apiCount, routes: s.routeCount }, 'revision installed');
        void https?.listener.configure(s.definition.domains);
      },
    });

    const audit = openAuditTrail({
      store: store.audit,
      dataDir: options.dataDir,
      env: options.env,
      clock,
      logger,
      settings: options.audit,
      onSinkDrop: (n) => securityMetrics.countAuditSinkDrop(n),
    });
    cleanups.push(() => audit.close());
    const controlPlane = createControlPlane({ store, installer: runtime, clock, logger });
    await controlPlane.start();
    cleanups.push(() => controlPlane.stop());

    const bootstrap = await controlPlane.ensureBootstrapToken({ envValue: options.env.PORTCULLIS_ADMIN_TOKEN });
    // Printed at once: the value exists nowhere else, and a failing --config below must not lose it.
    if (bootstrap) {
      await audit.record({ eventName: 'CreateAdminToken', userIdentity: { type: 'Gateway', userName: 'portcullis serve' }, requestParameters: { name: 'bootstrap', role: 'admin' }, readOnly: false });
      print(`Admin token (shown once; store it now, e.g. export PORTCULLIS_ADMIN_TOKEN=...):\n  ${bootstrap}`);
    }

    const configFile = options.configFile ? resolve(options.configFile) : undefined;
    const deployFile = async (reason: string) => {
      if (!configFile) return;
      const source = await readFile(configFile, 'utf8');
      const result = await controlPlane.deploy({ source, comment: `${reason}: ${configFile}`, actor: 'portcullis serve' }).then(
        (r) => (metrics.countConfigReload('success'), r),
        (err) => {
          metrics.countConfigReload('failure');
          throw err;
        },
      );
      if (!result.unchanged) logger.info({ revision: result.revision.number, file: configFile }, `deployed ${basename(configFile)}`);
      await audit.record({
        eventName: 'CreateDeployment',
        userIdentity: { type: 'Gateway', userName: 'portcullis serve' },
        requestParameters: { file: configFile, reason },
        responseElements: { revision: result.revision.number, unchanged: result.unchanged },
        readOnly: false,
      });
    };
    if (configFile) {
      try {
        await deployFile('serve --config');
      } catch (err) {
        if (err instanceof DefinitionError) {
          throw new Error(`${configFile} is not a valid definition:\n${formatProblems(err.problems, configFile)}`);
        }
        throw err;
      }
    }

    // In-process counters start empty: rebuild quota counts from the usage records (Redis keeps its own).
    const installedDefinition = runtime.snapshot()?.definition;
    if (counters.kind === 'memory' && installedDefinition) {
      await restoreQuotas(installedDefinition, store.apiKeys, counters, clock);
    }
    const apiKeys = createKeyService({
      store, hasher: keyHasher, clock, counters, definition: () => runtime.snapshot()?.definition,
      ...(usageSync ? { syncUsage: () => usageSync.syncNow() } : {}),
    });

    const reload = async (reason = 'reload') => {
      try {
        await deployFile(reason);
      } catch (err) {
        const detail = err instanceof DefinitionError ? formatProblems(err.problems, configFile) : String((err as Error).message ?? err);
        logger.error({ file: configFile }, `not deployed, the running revision keeps serving:\n${detail}`);
      }
    };

    if (options.httpsListen) {
      https = await startHttps({
        runtime,
        clock,
        logger,
        metrics,
        listen: options.httpsListen,
        expiryWarningDays: options.certExpiryWarningDays,
        watchFiles: options.watchCertificates,
      });
      cleanups.push(() => https?.listener.drain(options.drainTimeoutMs ?? 30_000));
    }
    const httpMode = plainHttpMode(options.httpMode, https !== undefined, logger);
    const gateway = createGatewayServer({
      handler: createDispatcher({
        plainHttp: { mode: httpMode, httpsPort: https?.port },
        snapshot: runtime.snapshot,
        clock,
        observer: runtime,
        secure: false,
        draining: () => gateway.draining,
        onError: (err, ctx) => logger.error({ err, requestId: ctx.requestId }, 'unexpected error while handling a request'),
      }),
    });
    const gw = await gateway.listen(listen.host, listen.port);
    cleanups.push(() => gateway.drain(options.drainTimeoutMs ?? 30_000));

    // Alarms defined through the admin API, shared by every node through the store (docs/monitoring.md).
    const runtimeAlarms = await openRuntimeAlarms({
      meta: store.meta,
      changes: store.changes,
      onChange: (list) => monitor.setRuntimeAlarms(list),
      onError: (err) => logger.warn({ component: 'monitor', err: String(err) }, 'could not reload the runtime alarms'),
    });
    cleanups.push(() => runtimeAlarms.close());
    const iamService = createIamService({ store, clock, box: secretBox, defaultAccountId: () => runtime.snapshot()?.settings.accountId ?? '123456789012' });
    const admin = createAdminServer({
      controlPlane,
      iam: iamService,
      apiKeys,
      audit,
      monitor,
      runtimeAlarms,
      metrics,
      logger,
      clock,
      readiness: async () => {
        const checks: Record<string, string> = {};
        checks.snapshot = runtime.snapshot() ? `revision ${runtime.snapshot()!.revision}` : 'no revision deployed';
        try {
          await store.ping();
          checks.store = 'ok';
        } catch (err) {
          checks.store = `unreachable: ${(err as Error).message}`;
        }
        const h = counters.health();
        checks.counters = h.ok ? 'ok' : `unreachable (${describeFailModes(counterSettings)}): ${h.lastError ?? ''}`;
        return { ready: !!runtime.snapshot() && checks.store === 'ok', checks };
      },
    });
    const ad = await admin.listen(adminListen.host, adminListen.port);
    cleanups.push(() => admin.close());

    let watcher: FSWatcher | undefined;
    if (configFile && options.watchConfig !== false) {
      let timer: NodeJS.Timeout | undefined;
      // Watch the directory: editors replace files by rename, which ends a watch on the file itself.
      watcher = watch(dirname(configFile), (_event, name) => {
        if (name && name.toString() !== basename(configFile)) return;
        clearTimeout(timer);
        timer = setTimeout(() => void reload('file changed'), 200);
      });
      cleanups.push(() => watcher?.close());
    }

    const gatewayUrl = `http://${fmtHost(gw.host)}:${gw.port}`;
    const httpsUrl = https ? `https://${fmtHost(https.host)}:${https.port}` : undefined;
    if (httpsUrl) print(`HTTPS listening on ${httpsUrl} for ${plural(https!.listener.served().length, 'custom domain')}; plain HTTP: ${httpMode}`);
    const adminUrl = `http://${fmtHost(ad.host)}:${ad.port}`;
    print(`Portcullis gateway listening on ${gatewayUrl} (admin API on ${adminUrl}, store: ${store.kind} ${store.location}, counters: ${describeCounters(counters, counterSettings)})`);
    const example = exampleCurl(runtime, gatewayUrl);
    if (example) print(`Try: ${example}`);

    let closing: Promise<void> | undefined;
    const close = () => (closing ??= cleanup());

    if (options.handleSignals) {
      const onTerm = (signal: string) => {
        logger.info({ signal }, 'draining: finishing in-flight requests');
        close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      const onSigterm = () => onTerm('SIGTERM');
      const onSigint = () => onTerm('SIGINT');
      const onSighup = () => {
        accessLog.reopen(); // a plain access-log file moved by logrotate (postrotate: kill -HUP)
        void reload('SIGHUP');
        void https?.listener.reload();
      };
      process.once('SIGTERM', onSigterm);
      process.once('SIGINT', onSigint);
      process.on('SIGHUP', onSighup);
      // A closed node must not answer signals meant for whatever the process does next.
      cleanups.unshift(() => {
        process.off('SIGTERM', onSigterm);
        process.off('SIGINT', onSigint);
        process.off('SIGHUP', onSighup);
      });
    }

    const reloadCertificates = async () => {
      await https?.listener.reload();
    };
    return { gatewayUrl, adminUrl, httpsUrl, reloadCertificates, runtime, store, logger, monitor, reload: () => reload('reload'), close };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function fmtHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** A curl line for the first GET route without path parameters, so the banner shows something that works. */
function exampleCurl(runtime: GatewayRuntime, base: string): string | undefined {
  const snap = runtime.snapshot();
  if (!snap) return undefined;
  for (const api of snap.definition.apis) {
    const stage = Object.keys(api.stages)[0];
    if (!stage) continue;
    const route = api.routes.find((r) => (r.method === 'GET' || r.method === 'ANY') && !r.path.includes('{'));
    if (!route) continue;
    const prefix = api.basePath === '/' ? '' : api.basePath;
    const host = api.hosts?.find((h) => !h.startsWith('*.'));
    return `curl -i ${host ? `-H 'Host: ${host}' ` : ''}${base}${prefix}/${stage}${route.path === '/' ? '' : route.path}`;
  }
  return undefined;
}

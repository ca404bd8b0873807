// The control plane: validates and deploys definitions as immutable revisions, rolls back, keeps every
// node of a cluster on the active revision (notifications plus polling), and manages admin tokens.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from '../observe/logger.ts';
import type { Clock } from '../core/clock.ts';
import type { Definition } from '../config/schema.ts';
import { DefinitionError, parseDefinition, type DefinitionProblem } from '../config/load.ts';
import type { CompiledSnapshot, SnapshotInstaller } from '../gateway/runtime-port.ts';
import {
  ADMIN_ROLES,
  StoreConflictError,
  type AdminRole,
  type AdminTokenRecord,
  type DefinitionFormat,
  type DeploymentRecord,
  type RevisionRecord,
  type RevisionSummary,
  type Store,
} from '../store/ports.ts';
import { ControlError } from './control-errors.ts';
import { subscriptionOverlaps } from '../keys/plan-overlap.ts';
import {
  MAX_TOKEN_LENGTH,
  MIN_ENV_TOKEN_LENGTH,
  generateTokenId,
  generateTokenValue,
  hashTokenValue,
  tokenHint,
} from './token-values.ts';

export interface ControlPlaneOptions {
  readonly store: Store;
  readonly installer: SnapshotInstaller;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often every node re-reads the deployment pointer, in case a notification was missed. */
  readonly pollIntervalMs?: number;
  /** How long a successful token lookup is trusted without asking the store (bounded staleness on revoke). */
  readonly tokenCacheMs?: number;
}

export type ValidationResult =
  | {
      readonly ok: true;
      readonly definition: Definition;
      readonly format: DefinitionFormat;
      readonly apiCount: number;
      readonly routeCount: number;
    }
  | { readonly ok: false; readonly problems: DefinitionProblem[] };

export interface DeployRequest {
  /** The definition text; bytes must be UTF-8. */
  readonly source: string | Uint8Array;
  /** Forces the format; by default it is detected from the text. */
  readonly format?: DefinitionFormat;
  readonly comment?: string | null;
  /** Who deploys (recorded on the revision and the deployment), for example "admin-token:ci". */
  readonly actor: string;
}

export interface DeployOutcome {
  /** True when nothing new was stored: the content (or the revision asked for) is already active. */
  readonly unchanged: boolean;
  readonly revision: RevisionSummary;
  readonly deployment: DeploymentRecord;
}

export interface NewAdminToken {
  readonly name: string;
  readonly role: AdminRole;
}

export interface ControlPlane {
  /** Schema, semantic and compile checks without storing or installing anything. */
  validate(source: string | Uint8Array, format?: DefinitionFormat): ValidationResult;
  /** Throws DefinitionError (nothing stored, the running snapshot untouched) when the definition is invalid. */
  deploy(request: DeployRequest): Promise<DeployOutcome>;
  /** Re-deploys a stored revision, checked and compiled by the running code; no new revision is stored. */
  rollback(revision: number, actor: string): Promise<DeployOutcome>;
  listRevisions(options?: { limit?: number; before?: number }): Promise<RevisionSummary[]>;
  getRevision(revision: number): Promise<RevisionRecord | undefined>;
  currentDeployment(): Promise<DeploymentRecord | undefined>;
  deploymentHistory(options?: { limit?: number }): Promise<DeploymentRecord[]>;
  /** The snapshot this node serves. */
  installed(): CompiledSnapshot | undefined;
  /** Installs the active revision, then follows deployment changes until stop(). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The value is returned here only; the store keeps its SHA-256. */
  createToken(input: NewAdminToken, actor: string): Promise<{ record: AdminTokenRecord; value: string }>;
  listTokens(): Promise<AdminTokenRecord[]>;
  /** Returns the revoked record; refuses (CONFLICT) to revoke the last active admin token. */
  revokeToken(id: string, actor?: string): Promise<AdminTokenRecord>;
  /** The active token with this value, or undefined. */
  authenticate(value: string): Promise<AdminTokenRecord | undefined>;
  /**
   * Makes sure someone can administer the gateway: stores PORTCULLIS_ADMIN_TOKEN's value when given, else
   * creates an admin token when none is active and returns its value (to be shown once).
   */
  ensureBootstrapToken(options: { envValue?: string }): Promise<string | undefined>;
}

const TOKEN_NAME = /^[^\p{Cc}]{1,128}$/u;
/** Ample for the few dozen tokens a gateway has; a full cache is emptied rather than grown. */
const MAX_CACHED_TOKENS = 1000;
/** last_used_at is informative only: one write per token per minute is enough. */
const TOUCH_INTERVAL_MS = 60_000;

export function createControlPlane({
  store,
  installer,
  clock,
  logger: parentLogger,
  pollIntervalMs = 5000,
  tokenCacheMs = 5000,
}: ControlPlaneOptions): ControlPlane {
  const logger = parentLogger.child({ component: 'control-plane' });
  const iso = (ms = clock.now()) => new Date(ms).toISOString();

  // Deploys, rollbacks and syncs run one at a time in this process, so a sync that read the pointer before a
  // deploy cannot install the older revision after it. Nodes of a cluster converge through the pointer.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = queue.then(fn, fn);
    queue = run.catch(() => {});
    return run;
  };

  let started = false;
  let stopped = false;
  let pollTimer: NodeJS.Timeout | undefined;
  let unsubscribers: Array<() => Promise<void>> = [];
  let syncQueued: Promise<void> | undefined;
  /** A revision this node's code cannot compile: reported once, not retried at every poll. */
  let unservableRevision: number | undefined;
  let syncFailing = false;

  const tokenCache = new Map<string, { record: AdminTokenRecord; expiresAt: number }>();
  const lastTouched = new Map<string, number>();
  let tokenQueue: Promise<unknown> = Promise.resolve();
  const serialTokens = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tokenQueue.then(fn, fn);
    tokenQueue = run.catch(() => {});
    return run;
  };

  const check = (source: string, format: DefinitionFormat | undefined, revision: number) =>
    checkSource(installer, source, format, revision);
  const validate = (source: string | Uint8Array, format?: DefinitionFormat) => validateDefinition(installer, source, { format });

  /** A definition that would put a subscribed key in two plans covering one API stage is refused, keys named. */
  async function refuseOverlaps(definition: Definition): Promise<void> {
    const problems = await subscriptionOverlaps(definition, async (plan) => (await store.apiKeys.subscriptions({ plan })).map((s) => s.keyId));
    if (problems.length) throw new DefinitionError(problems);
  }

  async function publishDeployment(revision: number): Promise<void> {
    try {
      await store.changes.publish('deployment', String(revision));
    } catch (err) {
      // The deploy itself succeeded; other nodes still converge through polling.
      logger.warn({ err, revision }, 'could not notify other nodes of the deployment; they will see it at their next poll');
    }
  }

  async function deployNow(request: DeployRequest): Promise<DeployOutcome> {
    const actor = checkActor(request.actor);
    const comment = request.comment ?? null;
    if (comment !== null && typeof comment !== 'string') throw new ControlError('INVALID_INPUT', 'comment must be a string');
    const source = decodeSource(request.source);
    const sha256 = createHash('sha256').update(source, 'utf8').digest('hex');

    const current = await store.deployments.current();
    if (current) {
      const active = await store.revisions.get(current.revision);
      // A file watcher re-deploying identical content must not create revisions.
      if (active && active.sha256 === sha256 && (request.format === undefined || request.format === active.format)) {
        if (installer.current()?.revision !== current.revision) void requestSync('unchanged deploy');
        return { unchanged: true, revision: toSummary(active), deployment: current };
      }
    }

    // Compile before storing anything, under the number the revision will most likely get; compile again in
    // the rare case another node stored a revision in between (the snapshot carries its number).
    const predicted = ((await store.revisions.list({ limit: 1 }))[0]?.number ?? 0) + 1;
    let checked = check(source, request.format, predicted);
    await refuseOverlaps(checked.definition);
    const revision = await store.revisions.create({ source, format: checked.format, sha256, comment, createdBy: actor });
    if (revision.number !== predicted) checked = check(source, checked.format, revision.number);
    const deployment = await store.deployments.activate(revision.number, actor);
    installer.install(checked.snapshot);
    unservableRevision = undefined;
    logger.info({ revision: revision.number, deployment: deployment.id, actor, sha256 }, 'revision deployed');
    await publishDeployment(revision.number);
    return { unchanged: false, revision: toSummary(revision), deployment };
  }

  async function rollbackNow(number: number, actorInput: string): Promise<DeployOutcome> {
    const actor = checkActor(actorInput);
    if (!Number.isSafeInteger(number) || number < 1) {
      throw new ControlError('INVALID_INPUT', `a revision number is a positive integer, got ${String(number)}`);
    }
    const record = await store.revisions.get(number);
    if (!record) throw new ControlError('NOT_FOUND', `revision ${number} does not exist`);
    const current = await store.deployments.current();
    if (current?.revision === number && installer.current()?.revision === number) {
      return { unchanged: true, revision: toSummary(record), deployment: current };
    }
    // The running code decides: a revision stored by an older version may no longer be servable, and is then
    // refused with its problems (DefinitionError) like any invalid deploy.
    const checked = check(record.source, record.format, number);
    await refuseOverlaps(checked.definition);
    const deployment = current?.revision === number ? current : await store.deployments.activate(number, actor);
    installer.install(checked.snapshot);
    unservableRevision = undefined;
    logger.info({ revision: number, deployment: deployment.id, actor }, 'rolled back to an earlier revision');
    if (deployment !== current) await publishDeployment(number);
    return { unchanged: false, revision: toSummary(record), deployment };
  }

  /** Installs the active revision if this node serves another one. */
  async function syncNow(reason: string): Promise<void> {
    const current = await store.deployments.current();
    if (!current) return;
    if (installer.current()?.revision === current.revision) return;
    if (unservableRevision === current.revision) return;
    const record = await store.revisions.get(current.revision);
    if (!record) {
      unservableRevision = current.revision;
      logger.error({ revision: current.revision }, 'the active revision is missing from the store; keeping the installed snapshot');
      return;
    }
    try {
      const { snapshot } = check(record.source, record.format, record.number);
      installer.install(snapshot);
      logger.info({ revision: record.number, deployment: current.id, deployedBy: current.deployedBy, reason }, 'installed the active revision');
    } catch (err) {
      if (!(err instanceof DefinitionError)) throw err;
      unservableRevision = current.revision;
      logger.error(
        { revision: record.number, problems: err.problems },
        'the active revision does not pass this node\'s checks (is this node running another version?); keeping the installed snapshot',
      );
    }
  }

  /** Coalesces bursts of notifications and polls into one queued sync. */
  function requestSync(reason: string): Promise<void> {
    if (stopped) return Promise.resolve();
    syncQueued ??= serial(async () => {
      syncQueued = undefined;
      if (stopped) return;
      try {
        await syncNow(reason);
        if (syncFailing) logger.info('the store answers again; deployment sync resumed');
        syncFailing = false;
      } catch (err) {
        // Logged once per outage, not at every poll.
        if (!syncFailing) logger.error({ err, reason }, 'cannot read the active deployment; serving the installed snapshot');
        syncFailing = true;
      }
    });
    return syncQueued;
  }

  function dropCachedToken(id: string): void {
    for (const [hash, entry] of tokenCache) if (entry.record.id === id) tokenCache.delete(hash);
    lastTouched.delete(id);
  }

  function touchLater(record: AdminTokenRecord, now: number): void {
    const previous = Math.max(lastTouched.get(record.id) ?? -Infinity, record.lastUsedAt ? Date.parse(record.lastUsedAt) : -Infinity);
    if (now - previous < TOUCH_INTERVAL_MS) return;
    lastTouched.set(record.id, now);
    store.adminTokens.touch(record.id, iso(now)).catch((err: unknown) => {
      logger.warn({ err, tokenId: record.id }, 'could not record the last use of an admin token');
    });
  }

  async function createToken(input: NewAdminToken, actor: string) {
    const name = typeof input?.name === 'string' ? input.name.trim() : '';
    if (!TOKEN_NAME.test(name)) {
      throw new ControlError('INVALID_INPUT', 'a token name is 1 to 128 characters without control characters');
    }
    if (!ADMIN_ROLES.includes(input.role)) {
      throw new ControlError('INVALID_INPUT', `a token role is one of ${ADMIN_ROLES.join(', ')}; got ${JSON.stringify(input.role)}`);
    }
    const value = generateTokenValue();
    const record = await store.adminTokens.create({
      id: generateTokenId(),
      name,
      role: input.role,
      hash: hashTokenValue(value),
      hint: tokenHint(value),
      createdAt: iso(),
    });
    logger.info({ tokenId: record.id, name, role: record.role, actor }, 'admin token created');
    return { record, value };
  }

  return {
    validate,

    deploy: (request) => serial(() => deployNow(request)),
    rollback: (revision, actor) => serial(() => rollbackNow(revision, actor)),

    listRevisions: (options) => store.revisions.list(options),
    getRevision: (revision) => store.revisions.get(revision),
    currentDeployment: () => store.deployments.current(),
    deploymentHistory: (options) => store.deployments.history(options),
    installed: () => installer.current(),

    async start() {
      if (started) throw new Error('the control plane is already started');
      started = true;
      try {
        unsubscribers.push(await store.changes.subscribe('deployment', () => void requestSync('notification')));
        unsubscribers.push(
          await store.changes.subscribe('entities', (payload) => {
            if (payload.startsWith('admin-token:')) dropCachedToken(payload.slice('admin-token:'.length));
          }),
        );
        // Subscribed first, so a deployment made while this runs is not missed. A store error here is fatal
        // (start fails); a revision that does not compile is logged and the node starts without it.
        await serial(() => syncNow('start'));
      } catch (err) {
        for (const unsubscribe of unsubscribers) await unsubscribe().catch(() => {});
        unsubscribers = [];
        started = false;
        throw err;
      }
      pollTimer = setInterval(() => void requestSync('poll'), pollIntervalMs);
      // The listeners keep a server alive; this timer alone must not keep a process from exiting.
      pollTimer.unref();
    },

    async stop() {
      stopped = true;
      clearInterval(pollTimer);
      pollTimer = undefined;
      const pending = unsubscribers;
      unsubscribers = [];
      for (const unsubscribe of pending) {
        await unsubscribe().catch((err: unknown) => logger.warn({ err }, 'could not unsubscribe from changes'));
      }
      // Let a deploy or sync in progress finish, so nothing is installed after stop() returns.
      await queue;
      await tokenQueue;
    },

    createToken: (input, actor) => createToken(input, actor),

    listTokens: () => store.adminTokens.list(),

    revokeToken: (id, actor) =>
      serialTokens(async () => {
        const record = typeof id === 'string' && id !== '' ? await store.adminTokens.get(id) : undefined;
        if (!record) throw new ControlError('NOT_FOUND', `no admin token with id ${JSON.stringify(id)}`);
        if (record.revokedAt !== null) return record;
        if (record.role === 'admin') {
          const activeAdmins = (await store.adminTokens.list()).filter((t) => t.role === 'admin' && t.revokedAt === null);
          if (activeAdmins.length <= 1) {
            throw new ControlError(
              'CONFLICT',
              `${JSON.stringify(record.name)} is the last active admin token; create another admin token before revoking it`,
            );
          }
        }
        await store.adminTokens.revoke(record.id, iso());
        dropCachedToken(record.id);
        logger.info({ tokenId: record.id, name: record.name, role: record.role, actor }, 'admin token revoked');
        // Other nodes drop their cached lookup now rather than when it expires.
        await store.changes.publish('entities', `admin-token:${record.id}`).catch((err: unknown) => {
          logger.warn({ err }, 'could not notify other nodes of a revoked admin token; their caches expire within seconds');
        });
        return (await store.adminTokens.get(record.id)) ?? record;
      }),

    async authenticate(value) {
      if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TOKEN_LENGTH) return undefined;
      const hash = hashTokenValue(value);
      const now = clock.now();
      let record: AdminTokenRecord | undefined;
      const cached = tokenCache.get(hash);
      if (cached && cached.expiresAt > now) {
        record = cached.record;
      } else {
        tokenCache.delete(hash);
        const found = await store.adminTokens.findByHash(hash);
        if (!found || found.revokedAt !== null) return undefined;
        record = found;
      }
      // The lookup already matched on the digest; compare again in constant time so the answer never depends on
      // an early-exit string comparison anywhere along the way (index, cache or adapter).
      const stored = Buffer.from(record.hash, 'hex');
      const given = Buffer.from(hash, 'hex');
      if (stored.length !== given.length || !timingSafeEqual(stored, given)) return undefined;
      if (!cached || cached.expiresAt <= now) {
        if (tokenCache.size >= MAX_CACHED_TOKENS) tokenCache.clear();
        tokenCache.set(hash, { record, expiresAt: now + tokenCacheMs });
      }
      touchLater(record, now);
      return record;
    },

    async ensureBootstrapToken({ envValue }) {
      if (envValue !== undefined && envValue !== '') {
        checkEnvToken(envValue);
        const hash = hashTokenValue(envValue);
        const existing = await store.adminTokens.findByHash(hash);
        if (!existing) {
          try {
            const record = await store.adminTokens.create({
              id: generateTokenId(),
              name: 'bootstrap-env',
              role: 'admin',
              hash,
              hint: tokenHint(envValue),
              createdAt: iso(),
            });
            logger.info({ tokenId: record.id }, 'stored PORTCULLIS_ADMIN_TOKEN as the admin token "bootstrap-env"');
          } catch (err) {
            // Another node of the cluster stored it first.
            if (!(err instanceof StoreConflictError)) throw err;
          }
          return undefined;
        }
        if (existing.revokedAt === null) return undefined;
        // Restoring it would silently undo a revocation.
        logger.warn({ tokenId: existing.id }, 'PORTCULLIS_ADMIN_TOKEN was revoked and is not restored; it cannot be used');
      }
      if ((await store.adminTokens.countActive()) > 0) return undefined;
      const { value } = await createToken({ name: 'bootstrap', role: 'admin' }, 'portcullis (no admin token existed)');
      return value;
    },
  };
}

/** Parses and compiles; throws DefinitionError with every problem found. */
function checkSource(
  installer: Pick<SnapshotInstaller, 'compile'>,
  source: string,
  format: DefinitionFormat | undefined,
  revision: number,
  fileName?: string,
) {
  const loaded = parseDefinition(source, { ...(format ? { format } : {}), ...(fileName ? { fileName } : {}) });
  if (!loaded.ok) throw new DefinitionError(loaded.problems);
  const snapshot = installer.compile(loaded.definition, revision);
  return { definition: loaded.definition, format: loaded.format, snapshot };
}

/**
 * Everything a deploy checks (schema, semantic checks, compilation by `installer`) without storing or
 * installing anything; also what `portcullis validate` runs locally. fileName only helps detect the format.
 */
export function validateDefinition(
  installer: Pick<SnapshotInstaller, 'compile'>,
  source: string | Uint8Array,
  options: { format?: DefinitionFormat; fileName?: string } = {},
): ValidationResult {
  try {
    const { definition, format, snapshot } = checkSource(installer, decodeSource(source), options.format, 0, options.fileName);
    return { ok: true, definition, format, apiCount: snapshot.apiCount, routeCount: snapshot.routeCount };
  } catch (err) {
    if (err instanceof DefinitionError) return { ok: false, problems: err.problems };
    throw err;
  }
}

function toSummary(record: RevisionRecord | RevisionSummary): RevisionSummary {
  const { number, createdAt, sha256, format, sizeBytes, comment, createdBy } = record;
  return { number, createdAt, sha256, format, sizeBytes, comment, createdBy };
}

/** Definitions are stored as text; bytes that are not UTF-8 are a problem with the definition, not a crash. */
function decodeSource(source: string | Uint8Array): string {
  if (typeof source === 'string') return source;
  if (!(source instanceof Uint8Array)) throw new TypeError('a definition source is a string or bytes');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(source);
  } catch {
    // The loader says where the first bad byte is (line and column).
    const loaded = parseDefinition(source);
    throw new DefinitionError(loaded.ok ? [{ path: '', message: 'the definition is not valid UTF-8 text' }] : loaded.problems);
  }
}

function checkActor(actor: string): string {
  if (typeof actor !== 'string' || actor === '') throw new TypeError('a deploy needs an actor (who deploys)');
  return actor;
}

function checkEnvToken(value: string): void {
  if (value.length < MIN_ENV_TOKEN_LENGTH) {
    throw new ControlError(
      'INVALID_INPUT',
      `PORTCULLIS_ADMIN_TOKEN is ${value.length} characters long; an admin token must have at least ${MIN_ENV_TOKEN_LENGTH} ` +
        '(generate one with `openssl rand -base64 32`, or unset it to have the gateway create one)',
    );
  }
  if (value.length > MAX_TOKEN_LENGTH) {
    throw new ControlError('INVALID_INPUT', `PORTCULLIS_ADMIN_TOKEN is longer than ${MAX_TOKEN_LENGTH} characters`);
  }
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    throw new ControlError('INVALID_INPUT', 'PORTCULLIS_ADMIN_TOKEN contains spaces or control characters');
  }
}

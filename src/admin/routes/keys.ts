// Admin API routes for API keys, usage-plan subscriptions and usage (AWS GetUsage / UpdateUsage). Wired into
// admin-server.ts's route table; documented in openapi-keys.ts.
import type { IncomingMessage } from 'node:http';
import type { AdminRole } from '../../store/ports.ts';
import { randomBytes } from 'node:crypto';
import type { ImportProgress, KeyService } from '../../keys/key-service.ts';
import { AdminHttpError } from '../admin-errors.ts';
import { readBody } from '../request-body.ts';

interface State {
  readonly req: IncomingMessage;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}
interface Deps {
  readonly apiKeys?: KeyService;
  readJson(state: never, fields: readonly string[]): Promise<Record<string, unknown>>;
}
type Reply = { readonly status: number; readonly json: unknown } | { readonly status: number; readonly text: string; readonly contentType: string };
interface KeyRoute {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly role: AdminRole | null;
  readonly query?: readonly string[];
  readonly handle: (state: State, deps: Deps) => Promise<Reply>;
}

/**
 * Asynchronous CSV imports (`?async=true`): the import runs in this node and reports its progress, which the
 * CLI polls. Kept in memory, the last few per node; `progress` lists every step so a slow poller misses none.
 */
interface ImportJob {
  readonly id: string;
  state: 'running' | 'done' | 'failed';
  readonly progress: ImportProgress[];
  result?: { created: number; updated: number };
  problems?: ReadonlyArray<{ row: number; message: string }>;
  error?: string;
}
const importJobs = new WeakMap<KeyService, Map<string, ImportJob>>();
const KEPT_JOBS = 20;

function startImportJob(keys: KeyService, text: string): ImportJob {
  let jobs = importJobs.get(keys);
  if (!jobs) importJobs.set(keys, (jobs = new Map()));
  const job: ImportJob = { id: `imp_${randomBytes(8).toString('hex')}`, state: 'running', progress: [] };
  jobs.set(job.id, job);
  for (const id of jobs.keys()) if (jobs.size > KEPT_JOBS && jobs.get(id)!.state !== 'running') jobs.delete(id);
  keys.importCsv(text, (p) => job.progress.push(p)).then(
    (report) => {
      if (report.problems.length) {
        job.problems = report.problems;
        job.state = 'failed';
        job.error = `the CSV has ${report.problems.length} problem(s); nothing was imported`;
      } else {
        job.result = { created: report.created, updated: report.updated };
        job.state = 'done';
      }
    },
    (err: unknown) => {
      job.state = 'failed';
      job.error = err instanceof Error ? err.message : String(err);
    },
  );
  return job;
}

/** 100,000 keys in AWS's CSV format are about 8 MB. */
const MAX_CSV_BYTES = 64 * 1024 * 1024;

const service = (deps: Deps): KeyService => {
  if (!deps.apiKeys) throw new AdminHttpError('NOT_FOUND', 'API keys are not enabled on this server');
  return deps.apiKeys;
};
const json = (deps: Deps, state: State, fields: readonly string[]) => deps.readJson(state as never, fields);
const str = (v: unknown, name: string, optional = true): string | undefined => {
  if (v === undefined || (optional && v === null)) return undefined;
  if (typeof v !== 'string') throw new AdminHttpError('BAD_REQUEST', `${name} must be a string`);
  return v;
};
const tags = (v: unknown): Record<string, string> | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw new AdminHttpError('BAD_REQUEST', 'tags must be an object of string values');
  }
  return v as Record<string, string>;
};
const bool = (v: unknown, name: string): boolean | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new AdminHttpError('BAD_REQUEST', `${name} must be true or false`);
  return v;
};
const KEY_FIELDS = ['name', 'description', 'customerId', 'tags', 'enabled', 'expiresAt'] as const;

export const KEY_ROUTES: readonly KeyRoute[] = Object.freeze([
  {
    method: 'GET',
    path: '/v1/api-keys',
    role: 'read-only',
    query: ['limit', 'after'],
    handle: async ({ query }, deps) => {
      const limitText = query.get('limit');
      const limit = limitText === null ? 1000 : Number(limitText);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new AdminHttpError('BAD_REQUEST', 'limit must be an integer from 1 to 10000');
      const keys = await service(deps).list({ limit, after: query.get('after') ?? undefined });
      return { status: 200, json: { keys, nextAfter: keys.length === limit ? keys[keys.length - 1]!.id : null } };
    },
  },
  {
    method: 'POST',
    path: '/v1/api-keys',
    role: 'operator',
    handle: async (state, deps) => {
      const b = await json(deps, state, [...KEY_FIELDS, 'plans', 'value']);
      if (b.plans !== undefined && (!Array.isArray(b.plans) || b.plans.some((p) => typeof p !== 'string'))) {
        throw new AdminHttpError('BAD_REQUEST', 'plans must be an array of plan names');
      }
      const { key, value } = await service(deps).create({
        name: str(b.name, 'name', false) ?? '',
        description: str(b.description, 'description'),
        customerId: str(b.customerId, 'customerId') ?? null,
        tags: tags(b.tags),
        enabled: bool(b.enabled, 'enabled'),
        expiresAt: str(b.expiresAt, 'expiresAt') ?? null,
        plans: b.plans as string[] | undefined,
        value: str(b.value, 'value'),
      });
      // The only time the value is ever sent: it is not stored.
      return { status: 201, json: { key, value } };
    },
  },
  {
    method: 'POST',
    path: '/v1/api-keys/import',
    role: 'operator',
    query: ['async'],
    handle: async (state, deps) => {
      const type = String(state.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'text/csv' && type !== 'text/plain') throw new AdminHttpError('UNSUPPORTED_MEDIA_TYPE', 'send the keys as text/csv (AWS format: Name, Key, Description, Enabled, UsagePlanIds)');
      const text = (await readBody(state.req, MAX_CSV_BYTES)).toString('utf8');
      const mode = state.query.get('async');
      if (mode !== null && mode !== 'true' && mode !== 'false') throw new AdminHttpError('BAD_REQUEST', 'async must be true or false');
      if (mode === 'true') return { status: 202, json: { job: startImportJob(service(deps), text) } };
      const report = await service(deps).importCsv(text);
      if (report.problems.length) {
        return {
          status: 400,
          json: { error: { code: 'BAD_REQUEST', message: `the CSV has ${report.problems.length} problem(s); nothing was imported` }, problems: report.problems },
        };
      }
      return { status: 200, json: { created: report.created, updated: report.updated } };
    },
  },
  {
    method: 'GET',
    path: '/v1/api-keys/import-jobs/{jobId}',
    role: 'operator',
    handle: async ({ params }, deps) => {
      const job = importJobs.get(service(deps))?.get(params.jobId ?? '');
      if (!job) throw new AdminHttpError('NOT_FOUND', `import job ${JSON.stringify(params.jobId ?? '')} does not exist (jobs are kept in the memory of the node that runs them)`);
      return { status: 200, json: { job } };
    },
  },
  {
    method: 'GET',
    path: '/v1/api-keys/export',
    role: 'read-only',
    handle: async (_state, deps) => ({ status: 200, text: await service(deps).exportCsv(), contentType: 'text/csv; charset=utf-8' }),
  },
  {
    method: 'GET',
    path: '/v1/api-keys/{id}',
    role: 'read-only',
    handle: async ({ params }, deps) => ({ status: 200, json: { key: await service(deps).get(params.id ?? '') } }),
  },
  {
    method: 'POST',
    path: '/v1/api-keys/{id}',
    role: 'operator',
    handle: async (state, deps) => {
      const b = await json(deps, state, KEY_FIELDS);
      const key = await service(deps).update(state.params.id ?? '', {
        ...(b.name !== undefined ? { name: str(b.name, 'name') } : {}),
        ...(b.description !== undefined ? { description: str(b.description, 'description') } : {}),
        ...(b.customerId !== undefined ? { customerId: str(b.customerId, 'customerId') ?? null } : {}),
        ...(b.tags !== undefined ? { tags: tags(b.tags) } : {}),
        ...(b.enabled !== undefined ? { enabled: bool(b.enabled, 'enabled') } : {}),
        ...(b.expiresAt !== undefined ? { expiresAt: str(b.expiresAt, 'expiresAt') ?? null } : {}),
      });
      return { status: 200, json: { key } };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/api-keys/{id}',
    role: 'operator',
    handle: async ({ params }, deps) => {
      await service(deps).remove(params.id ?? '');
      return { status: 200, json: { deleted: params.id } };
    },
  },
  {
    method: 'POST',
    path: '/v1/api-keys/{id}/rotate',
    role: 'operator',
    handle: async (state, deps) => {
      const b = await json(deps, state, ['graceSeconds']);
      const grace = b.graceSeconds ?? 0;
      if (typeof grace !== 'number') throw new AdminHttpError('BAD_REQUEST', 'graceSeconds must be a number');
      const { key, value } = await service(deps).rotate(state.params.id ?? '', grace);
      return { status: 200, json: { key, value } };
    },
  },
  {
    method: 'GET',
    path: '/v1/usage-plans',
    role: 'read-only',
    handle: async (_state, deps) => ({ status: 200, json: { plans: service(deps).plans() } }),
  },
  {
    method: 'GET',
    path: '/v1/usage-plans/{plan}/keys',
    role: 'read-only',
    handle: async ({ params }, deps) => ({ status: 200, json: { subscriptions: await service(deps).subscriptions({ plan: params.plan }) } }),
  },
  {
    method: 'POST',
    path: '/v1/usage-plans/{plan}/keys',
    role: 'operator',
    handle: async (state, deps) => {
      const b = await json(deps, state, ['keyId']);
      const keyId = str(b.keyId, 'keyId', false);
      if (!keyId) throw new AdminHttpError('BAD_REQUEST', 'keyId is required');
      return { status: 201, json: { subscription: await service(deps).subscribe(keyId, state.params.plan ?? '') } };
    },
  },
  {
    method: 'DELETE',
    path: '/v1/usage-plans/{plan}/keys/{keyId}',
    role: 'operator',
    handle: async ({ params }, deps) => {
      await service(deps).unsubscribe(params.keyId ?? '', params.plan ?? '');
      return { status: 200, json: { unsubscribed: { plan: params.plan, keyId: params.keyId } } };
    },
  },
  {
    method: 'GET',
    path: '/v1/usage-plans/{plan}/usage',
    role: 'read-only',
    query: ['startDate', 'endDate', 'keyId'],
    handle: async ({ params, query }, deps) => {
      const start = query.get('startDate');
      const end = query.get('endDate');
      if (!start || !end) throw new AdminHttpError('BAD_REQUEST', 'startDate and endDate (YYYY-MM-DD) are required');
      return { status: 200, json: await service(deps).usage(params.plan ?? '', start, end, query.get('keyId') ?? undefined) };
    },
  },
  {
    method: 'POST',
    path: '/v1/usage-plans/{plan}/keys/{keyId}/usage',
    role: 'operator',
    handle: async (state, deps) => {
      const b = await json(deps, state, ['remaining']);
      if (typeof b.remaining !== 'number') throw new AdminHttpError('BAD_REQUEST', 'remaining must be a number');
      return { status: 200, json: await service(deps).updateUsage(state.params.plan ?? '', state.params.keyId ?? '', b.remaining) };
    },
  },
]);

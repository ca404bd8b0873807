// The CLI's client for a running gateway's admin API (node:http/https, one connection per call so the
// command exits as soon as it is done). Failures become AdminUnreachableError or AdminApiError.
import type { Command } from 'commander';
import http from 'node:http';
import https from 'node:https';
import type { AdminRole, AdminTokenRecord, DeploymentRecord, RevisionRecord, RevisionSummary } from '../store/ports.ts';
import type { DefinitionProblem } from '../config/load.ts';

export type PublicAdminToken = Omit<AdminTokenRecord, 'hash'>;

/**
 * What main.ts hands a command module: `remote(command, action)` wires an action that talks to the admin
 * API (--admin-url, --token, --json, and errors written for a person), and the output it writes to.
 */
export type Remote = <A extends unknown[]>(
  command: Command,
  action: (client: AdminClient, options: { json?: boolean } & Record<string, unknown>, ...args: A) => Promise<number | void>,
) => Command;

export interface CommandIo {
  out(line?: string): void;
  err(line: string): void;
  printJson(value: unknown): void;
  setExitCode(code: number): void;
  readonly env: NodeJS.ProcessEnv;
}

export interface DeployResponse {
  readonly revision: RevisionSummary;
  readonly deployment: DeploymentRecord;
  readonly unchanged: boolean;
}

export interface RevisionList {
  readonly revisions: RevisionSummary[];
  readonly activeRevision: number | null;
  readonly nextBefore: number | null;
}

export interface CurrentDeployment {
  readonly deployment: DeploymentRecord;
  readonly revision: RevisionSummary;
  readonly installed: { revision: number; apiCount: number; routeCount: number } | null;
}

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Record<string, string>;
}

/** The admin API answered with an error. */
export class AdminApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requiredRole: AdminRole | undefined;
  readonly problems: DefinitionProblem[] | undefined;

  constructor(status: number, code: string, message: string, extra: { requiredRole?: AdminRole; problems?: DefinitionProblem[] } = {}) {
    super(message);
    this.name = 'AdminApiError';
    this.status = status;
    this.code = code;
    this.requiredRole = extra.requiredRole;
    this.problems = extra.problems;
  }
}

/** Nothing answered at the admin URL. */
export class AdminUnreachableError extends Error {
  readonly url: string;

  constructor(url: string, cause: unknown) {
    super(`cannot reach the admin API at ${url}: is \`portcullis serve\` running?`, { cause });
    this.name = 'AdminUnreachableError';
    this.url = url;
  }
}

export interface AdminClientOptions {
  /** http(s)://host:port of the admin listener. */
  readonly baseUrl: string;
  readonly token?: string;
  readonly timeoutMs?: number;
}

interface RequestOptions {
  readonly body?: Buffer | string;
  readonly contentType?: string;
  /** Statuses >= 400 that are answers rather than errors (503 from /readyz). */
  readonly accept?: readonly number[];
}

export interface AdminResponse<T> {
  readonly status: number;
  readonly body: T;
}

export interface AdminClient {
  readonly baseUrl: string;
  request<T>(method: string, path: string, options?: RequestOptions): Promise<AdminResponse<T>>;
  validate(source: Buffer, contentType: string): Promise<AdminResponse<unknown>>;
  deploy(source: Buffer, options: { contentType: string; comment?: string }): Promise<DeployResponse>;
  listRevisions(options?: { limit?: number; before?: number }): Promise<RevisionList>;
  getRevision(revision: number): Promise<{ revision: RevisionRecord; active: boolean }>;
  rollback(revision: number): Promise<DeployResponse>;
  /** undefined when nothing has been deployed yet. */
  currentDeployment(): Promise<CurrentDeployment | undefined>;
  readiness(): Promise<Readiness>;
  listTokens(): Promise<{ tokens: PublicAdminToken[] }>;
  createToken(name: string, role: AdminRole): Promise<{ token: PublicAdminToken; value: string }>;
  revokeToken(id: string): Promise<{ token: PublicAdminToken }>;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT']);

export function createAdminClient({ baseUrl, token, timeoutMs = 120_000 }: AdminClientOptions): AdminClient {
  const base = new URL(baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new Error(`the admin URL must start with http:// or https://, got ${JSON.stringify(baseUrl)}`);
  }
  const shownUrl = base.origin;
  const prefix = base.pathname.replace(/\/+$/, '');

  function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<AdminResponse<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(options.body));
    }
    const lib = base.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        { protocol: base.protocol, hostname: base.hostname, port: base.port, path: prefix + path, method, headers, agent: false, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(new AdminUnreachableError(shownUrl, err)));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown;
            try {
              body = text === '' ? undefined : JSON.parse(text);
            } catch {
              reject(new AdminApiError(status, 'UNEXPECTED_RESPONSE', `${shownUrl} answered ${status} with something that is not JSON: is it a Portcullis admin API?`));
              return;
            }
            if (status >= 400 && !options.accept?.includes(status)) {
              reject(toApiError(status, body));
              return;
            }
            resolve({ status, body: body as T });
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(UNREACHABLE.has(err.code ?? '') ? new AdminUnreachableError(shownUrl, err) : err);
      });
      req.end(options.body);
    });
  }

  const get = async <T>(path: string) => (await request<T>('GET', path)).body;

  return {
    baseUrl: shownUrl,
    request,
    validate: (source, contentType) => request('POST', '/v1/validate', { body: source, contentType, accept: [400] }),
    async deploy(source, { contentType, comment }) {
      const query = comment ? `?comment=${encodeURIComponent(comment)}` : '';
      return (await request<DeployResponse>('POST', `/v1/deployments${query}`, { body: source, contentType })).body;
    },
    listRevisions({ limit, before } = {}) {
      const query = new URLSearchParams();
      if (limit !== undefined) query.set('limit', String(limit));
      if (before !== undefined) query.set('before', String(before));
      const qs = query.toString();
      return get(`/v1/revisions${qs ? `?${qs}` : ''}`);
    },
    getRevision: (revision) => get(`/v1/revisions/${revision}`),
    async rollback(revision) {
      return (await request<DeployResponse>('POST', `/v1/revisions/${revision}/deploy`)).body;
    },
    async currentDeployment() {
      const res = await request<CurrentDeployment | { error: { code: string } }>('GET', '/v1/deployments/current', { accept: [404] });
      if (res.status === 404) {
        if ((res.body as { error?: { code?: string } })?.error?.code === 'NOT_FOUND') return undefined;
        throw toApiError(404, res.body);
      }
      return res.body as CurrentDeployment;
    },
    async readiness() {
      return (await request<Readiness>('GET', '/readyz', { accept: [503] })).body;
    },
    listTokens: () => get('/v1/admin-tokens'),
    async createToken(name, role) {
      return (await request<{ token: PublicAdminToken; value: string }>('POST', '/v1/admin-tokens', { body: JSON.stringify({ name, role }) })).body;
    },
    async revokeToken(id) {
      return (await request<{ token: PublicAdminToken }>('DELETE', `/v1/admin-tokens/${encodeURIComponent(id)}`)).body;
    },
  };
}

function toApiError(status: number, body: unknown): AdminApiError {
  const error = (body as { error?: { code?: unknown; message?: unknown; requiredRole?: unknown } } | undefined)?.error;
  const problems = (body as { problems?: unknown } | undefined)?.problems;
  return new AdminApiError(
    status,
    typeof error?.code === 'string' ? error.code : `HTTP_${status}`,
    typeof error?.message === 'string' ? error.message : `the admin API answered ${status}`,
    {
      requiredRole: typeof error?.requiredRole === 'string' ? (error.requiredRole as AdminRole) : undefined,
      problems: Array.isArray(problems) ? (problems as DefinitionProblem[]) : undefined,
    },
  );
}

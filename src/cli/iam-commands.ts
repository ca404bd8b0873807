// `portcullis policies ...`, `principals ...`, `access-keys ...` (IAM through the admin API, routes/iam.ts) and
// `policy validate FILE` (local, the messages deploy gives, with line and column) and `policy simulate` (the
// admin API's simulator). An access key's secret is printed once, at creation, and never again.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { jsonPathSegments } from '../config/resource-policy-checks.ts';
import { readJson } from '../config/json-source.ts';
import { readYaml } from '../config/yaml-source.ts';
import { formatPath, formatProblems, type DefinitionProblem } from '../config/problems.ts';
import type { PublicAccessKey, PublicPrincipal, SessionCredentials } from '../iam/iam-service.ts';
import { parsePolicy, type PolicyKind, type SimulateResult } from '../security/iam/index.ts';
import type { IamPolicyRecord } from '../store/iam-port.ts';
import type { CommandIo, Remote } from './admin-client.ts';
import { formatFields, formatTable, formatTime, plural } from './format.ts';

type Io = Pick<CommandIo, 'out' | 'err' | 'printJson' | 'setExitCode'>;

const collect = (value: string, previous: string[] = []) => [...previous, value];

function pairs(list: readonly string[] | undefined, flag: string): Record<string, string> {
  return Object.fromEntries((list ?? []).map((t) => {
    const i = t.indexOf('=');
    if (i < 1) throw new InvalidArgumentError(`${flag} ${t}: expected key=value`);
    return [t.slice(0, i), t.slice(i + 1)];
  }));
}

/** A policy file (JSON or YAML) with positions for problems. */
async function readPolicyFile(file: string): Promise<{ value: unknown; text: string; problems: DefinitionProblem[]; locate?: (paths: (string | number)[][]) => { line: number; column: number }[] }> {
  const text = await readFile(file, 'utf8');
  const yaml = ['.yaml', '.yml'].includes(extname(file).toLowerCase());
  const r = yaml ? readYaml(text) : readJson(text);
  if (!r.ok) return { value: undefined, text, problems: r.problems.map((p) => ({ path: formatPath(p.path), message: p.message, ...(p.line !== undefined ? { line: p.line, column: p.column ?? 1 } : {}) })) };
  return { value: r.value, text, problems: [], locate: (paths) => r.locate(paths) };
}

/** Validates a policy file with the engine deploy uses; problems carry the file's line and column. */
export async function validatePolicyFile(file: string, kind: PolicyKind, api = { region: 'us-east-1', accountId: '123456789012', apiId: 'api' }) {
  const read = await readPolicyFile(file);
  if (read.problems.length) return { ok: false as const, problems: read.problems };
  const r = parsePolicy(read.value, { kind, api });
  if (r.ok) return { ok: true as const, statementCount: r.policy.statementCount, document: read.value };
  const segments = r.problems.map((p) => jsonPathSegments(p.path));
  const positions = read.locate?.(segments) ?? [];
  return {
    ok: false as const,
    problems: r.problems.map((p, i) => ({ path: p.path, message: p.message, ...(positions[i] ? { line: positions[i]!.line, column: positions[i]!.column } : {}) })),
  };
}

async function loadDocument(file: string, kind: PolicyKind): Promise<unknown> {
  const v = await validatePolicyFile(file, kind);
  if (!v.ok) throw new InvalidArgumentError(`${file} is not a valid ${kind} policy:\n${formatProblems(v.problems, file)}`);
  return v.document;
}

function principalFields(p: PublicPrincipal): Array<[string, string]> {
  return [
    ['Id', p.id],
    ['ARN', p.arn],
    ['Type', p.type],
    ['Account', p.accountId],
    ['Path', p.path],
    ['Tags', Object.entries(p.tags).map(([a, b]) => `${a}=${b}`).join(', ') || '-'],
    ['Policies', p.policies.join(', ') || '-'],
    ['Created', formatTime(p.createdAt)],
    ['Updated', formatTime(p.updatedAt)],
  ];
}

export function registerIamCommands(program: Command, remote: Remote, io: Io): void {
  const { out, err, printJson } = io;
  const body = (value: unknown) => ({ body: JSON.stringify(value) });
  const path = encodeURIComponent;

  // ------------------------------------------------------------------------------------------ policies
  const policies = program.command('policies').description('IAM identity policies: put, list, show, delete');
  remote(
    policies.command('put').description('create or replace an identity policy from a JSON or YAML file (validated first)')
      .argument('<name>', 'policy name').argument('<file>', 'policy document').option('--description <text>', 'description'),
    async (client, o, name: string, file: string) => {
      const document = await loadDocument(file, 'identity');
      const res = await client.request<{ policy: IamPolicyRecord; created: boolean }>('POST', '/v1/iam/policies', body({ name, description: o.description, document }));
      if (o.json) return printJson(res.body);
      out(`✓ ${res.body.created ? 'created' : 'replaced'} policy ${name}; every node applies it within a second`);
    },
  );
  remote(policies.command('list').description('list identity policies'), async (client, o) => {
    const res = await client.request<{ policies: IamPolicyRecord[] }>('GET', '/v1/iam/policies');
    if (o.json) return printJson(res.body);
    if (!res.body.policies.length) return out('no policies yet: add one with `portcullis policies put NAME FILE`');
    out(formatTable(['NAME', 'DESCRIPTION', 'UPDATED'], res.body.policies.map((p) => [p.name, p.description || '-', formatTime(p.updatedAt)])));
  });
  remote(policies.command('show').description('print a policy document').argument('<name>', 'policy name'), async (client, o, name: string) => {
    const res = await client.request<{ policy: IamPolicyRecord }>('GET', `/v1/iam/policies/${path(name)}`);
    if (o.json) return printJson(res.body);
    out(JSON.stringify(JSON.parse(res.body.policy.document), null, 2));
  });
  remote(policies.command('delete').description('delete a policy no principal has attached').argument('<name>', 'policy name'), async (client, o, name: string) => {
    const res = await client.request('DELETE', `/v1/iam/policies/${path(name)}`);
    if (o.json) return printJson(res.body);
    out(`✓ deleted policy ${name}`);
  });

  // ---------------------------------------------------------------------------------------- principals
  const principals = program.command('principals').description('IAM principals (users and roles): create, list, show, update, delete, credentials');
  remote(
    principals.command('create').description('create a user or role')
      .argument('<type>', 'user or role').argument('<name>', 'name')
      .option('--account <id>', '12-digit account id (default: the definition\'s settings.accountId)')
      .option('--path <path>', 'IAM path such as /team/ (default /)')
      .option('--tag <key=value>', 'tag (repeatable)', collect)
      .option('--policy <name>', 'attach an identity policy (repeatable)', collect),
    async (client, o, type: string, name: string) => {
      if (type !== 'user' && type !== 'role') throw new InvalidArgumentError('the type is user or role');
      const res = await client.request<{ principal: PublicPrincipal }>('POST', '/v1/iam/principals', body({
        type, name, accountId: o.account, path: o.path, tags: pairs(o.tag as string[] | undefined, '--tag'), policies: o.policy ?? [],
      }));
      if (o.json) return printJson(res.body);
      out(`✓ created ${type} ${res.body.principal.arn} (${res.body.principal.id})`);
    },
  );
  remote(principals.command('list').description('list users and roles'), async (client, o) => {
    const res = await client.request<{ principals: PublicPrincipal[] }>('GET', '/v1/iam/principals');
    if (o.json) return printJson(res.body);
    if (!res.body.principals.length) return out('no principals yet: create one with `portcullis principals create user NAME`');
    out(formatTable(['ID', 'ARN', 'POLICIES', 'TAGS'], res.body.principals.map((p) => [
      p.id, p.arn, p.policies.join(',') || '-', Object.entries(p.tags).map(([a, b]) => `${a}=${b}`).join(',') || '-',
    ])));
  });
  remote(principals.command('show').description('show one principal').argument('<principal>', 'id or ARN'), async (client, o, who: string) => {
    const res = await client.request<{ principal: PublicPrincipal }>('GET', `/v1/iam/principals/${path(who)}`);
    if (o.json) return printJson(res.body);
    out(formatFields(principalFields(res.body.principal)));
  });
  remote(
    principals.command('update').description('change path, tags or attached policies (every node within a second)').argument('<principal>', 'id or ARN')
      .option('--path <path>', 'new IAM path')
      .option('--tag <key=value>', 'set a tag (repeatable)', collect)
      .option('--untag <key>', 'remove a tag (repeatable)', collect)
      .option('--attach <policy>', 'attach a policy (repeatable)', collect)
      .option('--detach <policy>', 'detach a policy (repeatable)', collect),
    async (client, o, who: string) => {
      const cur = (await client.request<{ principal: PublicPrincipal }>('GET', `/v1/iam/principals/${path(who)}`)).body.principal;
      const patch: Record<string, unknown> = {};
      if (o.path !== undefined) patch.path = o.path;
      if (o.tag || o.untag) {
        const tags: Record<string, string> = { ...cur.tags, ...pairs(o.tag as string[] | undefined, '--tag') };
        for (const k of (o.untag as string[] | undefined) ?? []) delete tags[k];
        patch.tags = tags;
      }
      if (o.attach || o.detach) {
        const detach = new Set((o.detach as string[] | undefined) ?? []);
        patch.policies = [...new Set([...cur.policies, ...((o.attach as string[] | undefined) ?? [])])].filter((n) => !detach.has(n));
      }
      if (!Object.keys(patch).length) throw new InvalidArgumentError('nothing to change: give --path, --tag, --untag, --attach or --detach');
      const res = await client.request<{ principal: PublicPrincipal }>('POST', `/v1/iam/principals/${path(cur.id)}`, body(patch));
      if (o.json) return printJson(res.body);
      out(`✓ updated ${res.body.principal.arn}`);
      out(formatFields(principalFields(res.body.principal)));
    },
  );
  remote(principals.command('delete').description('delete a principal and its access keys').argument('<principal>', 'id or ARN'), async (client, o, who: string) => {
    const res = await client.request('DELETE', `/v1/iam/principals/${path(who)}`);
    if (o.json) return printJson(res.body);
    out(`✓ deleted principal ${who} and its access keys`);
  });
  remote(
    principals.command('session-credentials').description('issue temporary credentials (like AWS STS); shown once')
      .argument('<principal>', 'id or ARN').option('--duration <seconds>', 'lifetime, 900 to 43200 seconds (default 3600)'),
    async (client, o, who: string) => {
      const res = await client.request<{ credentials: SessionCredentials }>('POST', `/v1/iam/principals/${path(who)}/session-credentials`,
        body(o.duration !== undefined ? { durationSeconds: Number(o.duration) } : {}));
      if (o.json) return printJson(res.body);
      const c = res.body.credentials;
      out(`✓ temporary credentials for ${who}, valid until ${formatTime(c.expiration)} (shown once; not stored in clear):`);
      out(`AWS_ACCESS_KEY_ID=${c.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${c.secretAccessKey}\nAWS_SESSION_TOKEN=${c.sessionToken}`);
    },
  );

  // --------------------------------------------------------------------------------------- access keys
  const accessKeys = program.command('access-keys').description('IAM access keys for SigV4: create (secret shown once), list, activate, deactivate, delete');
  remote(accessKeys.command('create').description('create an access key for a principal; its secret is printed once').argument('<principal>', 'id or ARN'), async (client, o, who: string) => {
    const res = await client.request<{ accessKey: PublicAccessKey & { secretAccessKey: string } }>('POST', `/v1/iam/principals/${path(who)}/access-keys`);
    if (o.json) return printJson(res.body);
    out(`✓ created access key ${res.body.accessKey.accessKeyId} for ${who}`);
    out('Secret access key (shown once; stored only encrypted):');
    out(`  ${res.body.accessKey.secretAccessKey}`);
  });
  remote(accessKeys.command('list').description('list access keys (never secrets)').option('--principal <principal>', 'only this principal\'s keys'), async (client, o) => {
    const res = await client.request<{ accessKeys: PublicAccessKey[] }>('GET', `/v1/iam/access-keys${o.principal ? `?principal=${path(String(o.principal))}` : ''}`);
    if (o.json) return printJson(res.body);
    if (!res.body.accessKeys.length) return out('no access keys: create one with `portcullis access-keys create PRINCIPAL`');
    out(formatTable(['ACCESS KEY ID', 'PRINCIPAL', 'STATUS', 'CREATED', 'LAST USED', 'EXPIRES'], res.body.accessKeys.map((k) => [
      k.accessKeyId, k.principalId, k.status, formatTime(k.createdAt), k.lastUsedAt ? formatTime(k.lastUsedAt) : 'never', k.expiresAt ? formatTime(k.expiresAt) : 'never',
    ])));
  });
  for (const [name, status] of [['activate', 'active'], ['deactivate', 'inactive']] as const) {
    remote(accessKeys.command(name).description(`${name} a key (every node within a second)`).argument('<id>', 'access key id'), async (client, o, id: string) => {
      const res = await client.request('POST', `/v1/iam/access-keys/${path(id)}`, body({ status }));
      if (o.json) return printJson(res.body);
      out(`✓ ${name}d access key ${id}`);
    });
  }
  remote(accessKeys.command('delete').description('delete an access key').argument('<id>', 'access key id'), async (client, o, id: string) => {
    const res = await client.request('DELETE', `/v1/iam/access-keys/${path(id)}`);
    if (o.json) return printJson(res.body);
    out(`✓ deleted access key ${id}`);
  });
  remote(accessKeys.command('reseal').description('after rotating PORTCULLIS_MASTER_KEY: re-encrypt every secret under the new key (admin role)'), async (client, o) => {
    const res = await client.request<{ resealed: number }>('POST', '/v1/iam/reseal-secrets');
    if (o.json) return printJson(res.body);
    out(`✓ re-sealed ${plural(res.body.resealed, 'secret')} under the current master key`);
  });

  // -------------------------------------------------------------------------------- policy tools
  const policy = program.command('policy').description('policy tools: validate a file locally, simulate a request');
  policy.command('validate').description('validate a policy file locally with the messages deploy gives; no gateway needed')
    .argument('<file>', 'JSON or YAML policy document')
    .option('--resource', 'validate as an API resource policy (Principal required, 8,192-character limit, execute-api:/ shorthand)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, o: { resource?: boolean; json?: boolean }) => {
      const kind: PolicyKind = o.resource ? 'resource' : 'identity';
      const r = await validatePolicyFile(file, kind);
      if (o.json) printJson(r.ok ? { valid: true, statementCount: r.statementCount } : { valid: false, problems: r.problems });
      else if (r.ok) out(`✓ ${file} is a valid ${kind} policy (${plural(r.statementCount, 'statement')})`);
      else {
        err(`✗ ${file} is not a valid ${kind} policy (${plural(r.problems.length, 'problem')}):`);
        err(formatProblems(r.problems, file));
      }
      if (!r.ok) io.setExitCode(1);
    });
  remote(
    policy.command('simulate').description("simulate a request like AWS's policy simulator: decision, deciding statement, why each other statement did not match")
      .requiredOption('--method <method>', 'HTTP method').requiredOption('--path <path>', 'request path, such as /pets/42')
      .option('--stage <stage>', 'stage (default prod)')
      .option('--api <name>', 'a deployed API: its region, account, id and resource policy are used')
      .option('--principal <principal>', 'a stored principal (id or ARN: its tags and policies are used) or any IAM/STS ARN; none = anonymous')
      .option('--identity <file>', 'an identity policy file (repeatable)', collect)
      .option('--policy <name>', 'a stored identity policy (repeatable)', collect)
      .option('--resource-policy <file>', 'a resource policy file (instead of the deployed API\'s)')
      .option('--context <key=value>', 'a condition key such as aws:SourceIp=10.0.0.1 (repeatable; repeat a key for several values)', collect)
      .option('--tag <key=value>', 'a principal tag (repeatable)', collect)
      .option('--auth-type <type>', 'iam, lambda, cognito or none (default: iam with a principal, else none)'),
    async (client, o) => {
      const context: Record<string, string | string[]> = {};
      for (const [k, v] of ((o.context as string[] | undefined) ?? []).map((t) => {
        const i = t.indexOf('=');
        if (i < 1) throw new InvalidArgumentError(`--context ${t}: expected key=value`);
        return [t.slice(0, i), t.slice(i + 1)] as const;
      })) {
        const prev = context[k];
        context[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
      }
      const identityPolicies = [];
      for (const f of (o.identity as string[] | undefined) ?? []) identityPolicies.push(await loadDocument(f, 'identity'));
      const res = await client.request<SimulateResult & { ok: true }>('POST', '/v1/iam/simulate', body({
        method: o.method, path: o.path, stage: o.stage, api: o.api, principal: o.principal, policyNames: o.policy,
        identityPolicies: identityPolicies.length ? identityPolicies : undefined,
        resourcePolicy: o.resourcePolicy ? await loadDocument(String(o.resourcePolicy), 'resource') : undefined,
        context: Object.keys(context).length ? context : undefined,
        tags: o.tag ? pairs(o.tag as string[], '--tag') : undefined,
        authType: o.authType,
      }));
      if (o.json) return printJson(res.body);
      const r = res.body;
      out(`${r.decision === 'Allow' ? '✓' : '✗'} ${r.decision}: ${o.method} ${o.path} → ${r.methodArn}${r.authType === 'iam' ? ` (${r.sameAccount ? 'same account: either side may allow' : 'another account: both sides must allow'})` : ''}`);
      if (r.denial) out(`  the client would get 403 AccessDeniedException: ${r.denial.message}`);
      for (const s of r.statements) {
        const name = `${s.policy} ${s.sid !== undefined ? `"${s.sid}"` : `#${s.index}`} (${s.effect})`;
        out(`  ${s.deciding ? '→' : s.matched ? '+' : '-'} ${name}: ${s.matched ? (s.deciding ? 'matched, decided' : 'matched') : 'did not match'}`);
        for (const why of s.reasons) out(`      ${why}`);
      }
      if (!r.statements.length) out('  no policies apply');
      if (r.decision !== 'Allow') io.setExitCode(2);
    },
  );
}

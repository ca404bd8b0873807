// `portcullis keys ...`, `plans ...` and `usage ...`: API keys, plan subscriptions and usage through the
// admin API (routes/keys.ts). A key's value is printed once, at create/rotate, and never again.
import { readFile, writeFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { csvField } from '../keys/csv.ts';
import type { PublicKey, UsageReport } from '../keys/key-service.ts';
import type { CommandIo, Remote } from './admin-client.ts';
import { formatFields, formatTable, formatTime, plural } from './format.ts';

type Io = Pick<CommandIo, 'out' | 'err' | 'printJson'>;

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** "90d", "12h", "30m", "45s" or a plain number of seconds. */
export function parseDurationSeconds(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const m = DURATION.exec(value);
  if (!m) throw new InvalidArgumentError('expected seconds or a duration such as 30m, 12h, 90d');
  return Number(m[1]) * UNIT[m[2] as keyof typeof UNIT];
}

/** An ISO time, or a duration from now ("30d"). */
function parseExpiry(value: string): string {
  if (DURATION.test(value)) return new Date(Date.now() + parseDurationSeconds(value) * 1000).toISOString();
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO 8601 time or a duration such as 90d');
  return new Date(ms).toISOString();
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const day = (value: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new InvalidArgumentError('expected YYYY-MM-DD');
  return value;
};

function keyFields(k: PublicKey): Array<[string, string]> {
  return [
    ['Id', k.id],
    ['Name', k.name],
    ['Enabled', String(k.enabled)],
    ['Hint', `${k.hint}…`],
    ['Description', k.description || '-'],
    ['Customer id', k.customerId ?? '-'],
    ['Tags', Object.entries(k.tags).map(([a, b]) => `${a}=${b}`).join(', ') || '-'],
    ['Plans', k.plans?.join(', ') || '-'],
    ['Created', formatTime(k.createdAt)],
    ['Updated', formatTime(k.updatedAt)],
    ['Expires', k.expiresAt ? formatTime(k.expiresAt) : 'never'],
    ...(k.rotatedValueValidUntil ? [['Old value valid until', formatTime(k.rotatedValueValidUntil)] as [string, string]] : []),
  ];
}

export function registerKeyCommands(program: Command, remote: Remote, io: Io): void {
  const { out, err, printJson } = io;
  const body = (value: unknown) => ({ body: JSON.stringify(value) });
  const path = encodeURIComponent;

  const keys = program.command('keys').description('API keys: create, list, enable/disable, rotate, import/export');
  remote(
    keys
      .command('create')
      .description('create a key; its value is printed once and never stored')
      .requiredOption('--name <name>', 'key name')
      .option('--description <text>', 'description')
      .option('--customer-id <id>', 'customer id (AWS Marketplace style)')
      .option('--plan <plan>', 'subscribe to a usage plan (repeatable)', collect)
      .option('--tag <key=value>', 'tag (repeatable)', collect)
      .option('--expires <time>', 'ISO 8601 time or a duration such as 90d', parseExpiry)
      .option('--disabled', 'create it disabled')
      .option('--value <value>', 'import this value (20-128 letters and digits) instead of generating one'),
    async (client, o) => {
      const tags = Object.fromEntries(((o.tag as string[] | undefined) ?? []).map((t) => {
        const i = t.indexOf('=');
        if (i < 1) throw new InvalidArgumentError(`--tag ${t}: expected key=value`);
        return [t.slice(0, i), t.slice(i + 1)];
      }));
      const res = await client.request<{ key: PublicKey; value: string }>('POST', '/v1/api-keys', body({
        name: o.name, description: o.description, customerId: o.customerId, plans: o.plan, tags, expiresAt: o.expires, enabled: !o.disabled, value: o.value,
      }));
      if (o.json) return printJson(res.body);
      out(`✓ created API key ${res.body.key.id} ${JSON.stringify(res.body.key.name)}${res.body.key.plans?.length ? ` in ${res.body.key.plans.join(', ')}` : ''}`);
      out(`Value (shown once; it is not stored):\n  ${res.body.value}`);
    },
  );
  remote(keys.command('list').description('list keys (never their values)').option('--limit <n>', 'how many (default 1000)'), async (client, o) => {
    const res = await client.request<{ keys: PublicKey[]; nextAfter: string | null }>('GET', `/v1/api-keys${o.limit ? `?limit=${path(String(o.limit))}` : ''}`);
    if (o.json) return printJson(res.body);
    if (!res.body.keys.length) return out('no API keys yet: create one with `portcullis keys create --name NAME`');
    out(formatTable(['ID', 'NAME', 'ENABLED', 'HINT', 'PLANS', 'EXPIRES', 'CREATED'], res.body.keys.map((k) => [
      k.id, k.name, String(k.enabled), `${k.hint}…`, k.plans?.join(',') || '-', k.expiresAt ? formatTime(k.expiresAt) : 'never', formatTime(k.createdAt),
    ])));
    if (res.body.nextAfter) out('(more keys: use the admin API with ?after=' + res.body.nextAfter + ')');
  });
  remote(keys.command('show').description('show one key').argument('<id>', 'key id'), async (client, o, id: string) => {
    const res = await client.request<{ key: PublicKey }>('GET', `/v1/api-keys/${path(id)}`);
    if (o.json) return printJson(res.body);
    out(formatFields(keyFields(res.body.key)));
  });
  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    remote(keys.command(name).description(`${name} a key (every node within a second)`).argument('<id>', 'key id'), async (client, o, id: string) => {
      const res = await client.request<{ key: PublicKey }>('POST', `/v1/api-keys/${path(id)}`, body({ enabled }));
      if (o.json) return printJson(res.body);
      out(`✓ ${name}d API key ${id}`);
    });
  }
  remote(keys.command('delete').description('delete a key and its subscriptions (usage records stay)').argument('<id>', 'key id'), async (client, o, id: string) => {
    const res = await client.request('DELETE', `/v1/api-keys/${path(id)}`);
    if (o.json) return printJson(res.body);
    out(`✓ deleted API key ${id}`);
  });
  remote(
    keys.command('rotate').description('issue a new value; the old one keeps working for --grace').argument('<id>', 'key id')
      .option('--grace <duration>', 'how long the old value stays valid (seconds or 30m, 12h, 7d; default 0)', parseDurationSeconds),
    async (client, o, id: string) => {
      const res = await client.request<{ key: PublicKey; value: string }>('POST', `/v1/api-keys/${path(id)}/rotate`, body({ graceSeconds: o.grace ?? 0 }));
      if (o.json) return printJson(res.body);
      out(`✓ rotated API key ${id}${res.body.key.rotatedValueValidUntil ? `; the old value works until ${formatTime(res.body.key.rotatedValueValidUntil)}` : '; the old value no longer works'}`);
      out(`New value (shown once; it is not stored):\n  ${res.body.value}`);
    },
  );
  remote(keys.command('import').description("import keys from a CSV file in AWS's format (all or nothing)").argument('<file>', 'CSV: Name, Key, Description, Enabled, UsagePlanIds'), async (client, o, file: string) => {
    const started = Date.now();
    const text = await readFile(file, 'utf8');
    const rows = Math.max(0, text.split('\n').filter((l) => l.trim() !== '').length - 1);
    if (!o.json) err(`read ${plural(rows, 'row')} from ${file}; importing…`);
    type Outcome = { created: number; updated: number } | { problems: { row: number; message: string }[] };
    // Asynchronous on the server: the CLI polls the job and prints each progress step it reports.
    const res = await client.request<Outcome | { job: ImportJobView }>(
      'POST', '/v1/api-keys/import?async=true', { body: text, contentType: 'text/csv', accept: [400] },
    );
    let body: Outcome;
    if ('job' in res.body) {
      let job = res.body.job;
      let shown = 0;
      for (;;) {
        if (!o.json) for (; shown < job.progress.length; shown++) err(`  ${describeProgress(job.progress[shown]!)}`);
        if (job.state !== 'running') break;
        await new Promise((r) => setTimeout(r, 250));
        job = (await client.request<{ job: ImportJobView }>('GET', `/v1/api-keys/import-jobs/${path(job.id)}`)).body.job;
      }
      if (job.state === 'done' && job.result) body = job.result;
      else if (job.problems) body = { problems: [...job.problems] };
      else {
        err(`✗ ${file} was not imported: ${job.error ?? 'the import failed'}`);
        return 1;
      }
    } else body = res.body;
    if (o.json) return printJson(body);
    if ('problems' in body) {
      err(`✗ ${file} was not imported (${plural(body.problems.length, 'problem')}; nothing was changed):`);
      for (const p of body.problems.slice(0, 200)) err(`  ${file}:${p.row}: ${p.message}`);
      if (body.problems.length > 200) err(`  … and ${body.problems.length - 200} more`);
      return 1;
    }
    out(`✓ imported ${file}: ${plural(body.created, 'key')} created, ${body.updated} updated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
  remote(keys.command('export').description('export key metadata as CSV (never values)').option('--output <file>', 'write to a file instead of stdout'), async (client, o) => {
    const lines = ['Id,Name,Description,Enabled,UsagePlanIds,CustomerId,Hint,CreatedAt,ExpiresAt'];
    let after = '';
    for (;;) {
      const res = await client.request<{ keys: PublicKey[]; nextAfter: string | null }>('GET', `/v1/api-keys?limit=10000${after ? `&after=${path(after)}` : ''}`);
      for (const k of res.body.keys) {
        lines.push([k.id, k.name, k.description, String(k.enabled), (k.plans ?? []).join(','), k.customerId ?? '', k.hint, k.createdAt, k.expiresAt ?? ''].map(csvField).join(','));
      }
      if (!res.body.nextAfter) break;
      after = res.body.nextAfter;
    }
    const csv = lines.join('\n') + '\n';
    if (o.output) {
      await writeFile(String(o.output), csv);
      err(`✓ wrote ${plural(lines.length - 1, 'key')} to ${o.output}`);
    } else out(csv.trimEnd());
  });

  const plans = program.command('plans').description('usage plans (defined in the definition) and their subscriptions');
  remote(plans.command('list').description('list usage plans'), async (client, o) => {
    const res = await client.request<{ plans: Array<{ name: string; apiStages: string[]; throttle: { rateLimit: number; burstLimit: number } | null; quota: { limit: number; period: string } | null; reportOnly: boolean }> }>('GET', '/v1/usage-plans');
    if (o.json) return printJson(res.body);
    if (!res.body.plans.length) return out('no usage plans: add `usagePlans` to the definition');
    out(formatTable(['PLAN', 'API STAGES', 'THROTTLE', 'QUOTA', 'MODE'], res.body.plans.map((p) => [
      p.name, p.apiStages.join(', '), p.throttle ? `${p.throttle.rateLimit}/s burst ${p.throttle.burstLimit}` : '-', p.quota ? `${p.quota.limit}/${p.quota.period}` : '-', p.reportOnly ? 'report-only' : 'enforce',
    ])));
  });
  for (const [name, method] of [['subscribe', 'POST'], ['unsubscribe', 'DELETE']] as const) {
    remote(
      plans.command(name).description(`${name} a key ${name === 'subscribe' ? 'to' : 'from'} a plan`).requiredOption('--plan <plan>', 'plan name').requiredOption('--key <id>', 'key id'),
      async (client, o) => {
        const res = method === 'POST'
          ? await client.request('POST', `/v1/usage-plans/${path(String(o.plan))}/keys`, body({ keyId: o.key }))
          : await client.request('DELETE', `/v1/usage-plans/${path(String(o.plan))}/keys/${path(String(o.key))}`);
        if (o.json) return printJson(res.body);
        out(`✓ ${name}d key ${o.key} ${name === 'subscribe' ? 'to' : 'from'} plan ${o.plan}`);
      },
    );
  }

  remote(
    program.command('usage').description('daily usage of a plan per key (AWS GetUsage)')
      .requiredOption('--plan <plan>', 'plan name').requiredOption('--from <day>', 'YYYY-MM-DD', day).requiredOption('--to <day>', 'YYYY-MM-DD', day)
      .option('--key <id>', 'only this key').option('--format <format>', 'json, csv or table', 'table'),
    async (client, o) => {
      const q = new URLSearchParams({ startDate: String(o.from), endDate: String(o.to), ...(o.key ? { keyId: String(o.key) } : {}) });
      const res = await client.request<UsageReport>('GET', `/v1/usage-plans/${path(String(o.plan))}/usage?${q}`);
      const format = o.json ? 'json' : String(o.format);
      if (format === 'json') return printJson(res.body);
      const days: string[] = [];
      for (let t = Date.parse(String(o.from)); t <= Date.parse(String(o.to)); t += 86_400_000) days.push(new Date(t).toISOString().slice(0, 10));
      const rows = Object.entries(res.body.values).flatMap(([key, list]) => list.map((v, i) => [key, days[i] ?? '', String(v[0]), v[1] === null ? '' : String(v[1])]));
      if (format === 'csv') return out(['KeyId,Date,Used,Remaining', ...rows.map((r) => r.map(csvField).join(','))].join('\n'));
      if (format !== 'table') throw new InvalidArgumentError('--format is json, csv or table');
      if (!rows.length) return out(`no usage for plan ${o.plan} from ${o.from} to ${o.to}`);
      out(formatTable(['KEY', 'DATE', 'USED', 'REMAINING'], rows.map((r) => [r[0]!, r[1]!, r[2]!, r[3] || '-'])));
    },
  );
}

interface ImportJobView {
  id: string;
  state: 'running' | 'done' | 'failed';
  progress: Array<{ phase: 'checking' | 'writing'; done: number; total: number }>;
  result?: { created: number; updated: number };
  problems?: Array<{ row: number; message: string }>;
  error?: string;
}

function describeProgress(p: ImportJobView['progress'][number]): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return p.phase === 'checking'
    ? `checked ${n(p.done)} of ${n(p.total)} rows (${Math.floor((p.done * 100) / Math.max(1, p.total))}%)`
    : `writing ${n(p.total)} ${p.total === 1 ? 'key' : 'keys'} in one transaction…`;
}

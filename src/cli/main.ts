// The `portcullis` command: `serve` runs a gateway node, `validate` checks a definition locally, and the
// other commands drive a running gateway through its admin API (src/cli/admin-client.ts).
import { VERSION } from '../core/version.ts';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { formatProblems } from '../config/load.ts';
import { systemClock } from '../core/clock.ts';
import type { ValidationResult } from '../control/control-plane.ts';
import { ADMIN_ROLES, type AdminRole } from '../store/ports.ts';
import { AdminApiError, AdminUnreachableError, createAdminClient, type AdminClient, type PublicAdminToken } from './admin-client.ts';
import { formatBytes, formatFields, formatTable, formatTime, plural, truncate } from './format.ts';
import { registerKeyCommands } from './keys-commands.ts';
import { registerCertsCommands } from './certs-commands.ts';
import { registerAuditCommands } from './audit-commands.ts';
import { registerAlarmCommands } from './alarm-commands.ts';
import { registerIamCommands } from './iam-commands.ts';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9090';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const version = VERSION;

interface RemoteOptions {
  adminUrl: string;
  token?: string;
  json?: boolean;
}

/** An expected failure: its message is printed as is, without a stack. */
class CliFailure extends Error {}

/** Runs the command line; resolves with the exit code (`serve` resolves once the gateway listens). */
export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode = 0;
  const out = (line = '') => io.stdout(`${line}\n`);
  const err = (line: string) => io.stderr(`${line}\n`);

  const program = new Command('portcullis')
    .description('A self-hosted API gateway with Amazon API Gateway semantics.')
    .version(version, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');

  /** Adds the options every admin-API command shares, and runs the action with a client. */
  const remote = <A extends unknown[]>(
    command: Command,
    action: (client: AdminClient, options: RemoteOptions & Record<string, unknown>, ...args: A) => Promise<number | void>,
  ) =>
    command
      .option('--admin-url <url>', 'admin API of the gateway (env PORTCULLIS_ADMIN_URL)', io.env.PORTCULLIS_ADMIN_URL || DEFAULT_ADMIN_URL)
      .option('--token <token>', 'admin token (env PORTCULLIS_ADMIN_TOKEN)')
      .option('--json', 'print the raw JSON answer')
      .action(async (...received: unknown[]) => {
        // commander passes the arguments, then the options object, then the command.
        const args = received.slice(0, -2) as A;
        const options = received[received.length - 2] as RemoteOptions & Record<string, unknown>;
        const token = options.token || io.env.PORTCULLIS_ADMIN_TOKEN;
        if (!token) {
          throw new CliFailure(
            'no admin token: pass --token or set PORTCULLIS_ADMIN_TOKEN (`portcullis serve` prints one at its first start)',
          );
        }
        const client = createAdminClient({ baseUrl: options.adminUrl, token });
        const code = await action(client, options, ...args);
        if (typeof code === 'number') exitCode = code;
      });

  const printJson = (value: unknown) => out(JSON.stringify(value, null, 2));

  program
    .command('serve')
    .description('run a gateway node: the gateway listener, the admin API and the control plane')
    .option('--config <file>', 'definition to deploy at start and again whenever the file changes')
    .option('--data-dir <dir>', 'where the SQLite store lives (env PORTCULLIS_DATA_DIR)', io.env.PORTCULLIS_DATA_DIR || '.portcullis')
    .option('--listen <host:port>', 'gateway listener (default 127.0.0.1:8080)', parseHostPort)
    .option('--admin-listen <host:port>', 'admin API listener (default 127.0.0.1:9090)', parseHostPort)
    .option('--storage <spec>', 'sqlite (default), sqlite:PATH or postgres://... (env PORTCULLIS_STORAGE)', io.env.PORTCULLIS_STORAGE)
    .option('--counters <spec>', 'memory (default) or redis://... (env PORTCULLIS_COUNTERS)', io.env.PORTCULLIS_COUNTERS)
    .addOption(new Option('--log-level <level>', 'application log level (env PORTCULLIS_LOG_LEVEL)').choices(LOG_LEVELS))
    .option('--https-listen <host:port>', 'HTTPS listener for the definition\'s custom domains (env PORTCULLIS_HTTPS_LISTEN)', parseHostPort)
    .addOption(
      new Option('--http-mode <mode>', 'plain HTTP: redirect (default with HTTPS) | refuse | serve (insecure) (env PORTCULLIS_HTTP_MODE)')
        .choices(['redirect', 'refuse', 'serve'])
        .default(io.env.PORTCULLIS_HTTP_MODE || undefined),
    )
    .option('--cert-expiry-warning-days <days>', 'warn when a certificate expires sooner (default 30)', parsePositiveInt)
    .action(async (options: ServeFlags) => {
      // Loaded here so `validate` and the remote commands do not load the whole server.
      const { startGateway } = await import('../server/start.ts');
      await startGateway({
        configFile: options.config,
        dataDir: options.dataDir,
        listen: options.listen,
        adminListen: options.adminListen,
        storage: options.storage,
        counters: options.counters,
        logLevel: options.logLevel,
        env: io.env,
        handleSignals: true,
        httpsListen: options.httpsListen ?? (io.env.PORTCULLIS_HTTPS_LISTEN ? parseHostPort(io.env.PORTCULLIS_HTTPS_LISTEN) : undefined),
        httpMode: options.httpMode,
        certExpiryWarningDays: options.certExpiryWarningDays,
      });
      // Starting leaves garbage and a grown young generation behind (module loading, the first compile):
      // give it back once, so the node rests at its working size (src/core/heap.ts).
      (await import('../core/heap.ts')).collectGarbageSoon();
    });

  program
    .command('validate')
    .description('check a definition file locally (schema, semantic checks, compilation); no gateway needed')
    .argument('<file>', 'YAML or JSON definition')
    .action(async (file: string) => {
      const source = await readSource(file);
      const result = await validateLocally(source, file);
      if (result.ok) {
        out(`✓ ${file} is valid: ${plural(result.apiCount, 'API')}, ${plural(result.routeCount, 'route')}`);
      } else {
        err(`✗ ${file} is not valid (${plural(result.problems.length, 'problem')}):`);
        err(formatProblems(result.problems, file));
        exitCode = 1;
      }
    });

  remote(
    program
      .command('deploy')
      .description('deploy a definition file to a running gateway as a new revision')
      .argument('<file>', 'YAML or JSON definition')
      .option('--comment <text>', 'note stored with the revision'),
    async (client, options, file: string) => {
      const source = await readSource(file);
      let result;
      try {
        result = await client.deploy(source, {
          contentType: contentTypeOf(file),
          comment: typeof options.comment === 'string' ? options.comment : `portcullis deploy ${basename(file)}`,
        });
      } catch (e) {
        if (e instanceof AdminApiError && e.code === 'INVALID_DEFINITION' && e.problems) {
          err(`✗ ${file} was not deployed (${plural(e.problems.length, 'problem')}); the running revision keeps serving:`);
          err(formatProblems(e.problems, file));
          return 1;
        }
        throw e;
      }
      if (options.json) return printJson(result);
      out(
        result.unchanged
          ? `✓ ${file} is unchanged: revision ${result.revision.number} is already active`
          : `✓ deployed ${file} as revision ${result.revision.number} (deployment ${result.deployment.id})`,
      );
    },
  );

  const revisions = program.command('revisions').description('stored, immutable, numbered revisions');
  remote(
    revisions
      .command('list')
      .description('list revisions, newest first (* marks the active one)')
      .option('--limit <n>', 'how many', parsePositiveInt)
      .option('--before <n>', 'only revisions numbered below n', parsePositiveInt),
    async (client, options) => {
      const list = await client.listRevisions({ limit: options.limit as number | undefined, before: options.before as number | undefined });
      if (options.json) return printJson(list);
      if (list.revisions.length === 0) return out('no revisions yet: deploy a definition with `portcullis deploy FILE`');
      out(
        formatTable(
          ['REVISION', 'CREATED', 'SIZE', 'SHA256', 'BY', 'COMMENT'],
          list.revisions.map((r) => [
            `${r.number}${r.number === list.activeRevision ? ' *' : ''}`,
            formatTime(r.createdAt),
            formatBytes(r.sizeBytes),
            r.sha256.slice(0, 12),
            r.createdBy ?? '-',
            truncate(r.comment ?? '', 60),
          ]),
        ),
      );
      if (list.nextBefore !== null) out(`(more: --before ${list.nextBefore})`);
    },
  );
  remote(
    revisions
      .command('show')
      .description('show one revision (--source prints only its definition, as stored)')
      .argument('<n>', 'revision number', parsePositiveInt)
      .option('--source', 'print the definition text only'),
    async (client, options, n: number) => {
      const { revision, active } = await client.getRevision(n);
      if (options.source) {
        io.stdout(revision.source.endsWith('\n') ? revision.source : `${revision.source}\n`);
        return;
      }
      if (options.json) return printJson({ revision, active });
      out(
        formatFields([
          ['Revision', `${revision.number}${active ? ' (active)' : ''}`],
          ['Created', formatTime(revision.createdAt)],
          ['Created by', revision.createdBy ?? '-'],
          ['Comment', revision.comment ?? '-'],
          ['Format', revision.format],
          ['Size', formatBytes(revision.sizeBytes)],
          ['SHA-256', revision.sha256],
        ]),
      );
      out(`(portcullis revisions show ${revision.number} --source prints the definition)`);
    },
  );

  remote(
    program
      .command('rollback')
      .description('deploy an earlier revision again')
      .argument('<n>', 'revision number', parsePositiveInt),
    async (client, options, n: number) => {
      let result;
      try {
        result = await client.rollback(n);
      } catch (e) {
        if (e instanceof AdminApiError && e.code === 'INVALID_DEFINITION' && e.problems) {
          err(`✗ revision ${n} no longer passes this gateway's checks (${plural(e.problems.length, 'problem')}); nothing changed:`);
          err(formatProblems(e.problems, `revision ${n}`));
          return 1;
        }
        throw e;
      }
      if (options.json) return printJson(result);
      out(
        result.unchanged
          ? `✓ revision ${n} is already active`
          : `✓ rolled back to revision ${n} (deployment ${result.deployment.id})`,
      );
    },
  );

  remote(
    program.command('status').description('the active revision and the readiness of the gateway (exit 1 when not ready)'),
    async (client, options) => {
      const [current, readiness] = await Promise.all([client.currentDeployment(), client.readiness()]);
      if (options.json) printJson({ current: current ?? null, readiness });
      else {
        const fields: Array<[string, string]> = [];
        if (current) {
          fields.push([
            'Active revision',
            `${current.deployment.revision} (deployed ${formatTime(current.deployment.deployedAt)} by ${current.deployment.deployedBy ?? 'unknown'})`,
          ]);
          fields.push([
            'This node serves',
            current.installed
              ? `revision ${current.installed.revision}: ${plural(current.installed.apiCount, 'API')}, ${plural(current.installed.routeCount, 'route')}`
              : 'nothing yet',
          ]);
        } else {
          fields.push(['Active revision', 'none: deploy a definition with `portcullis deploy FILE`']);
        }
        fields.push(['Ready', readiness.ready ? 'yes' : 'no']);
        for (const [name, value] of Object.entries(readiness.checks)) fields.push([`  ${name}`, value]);
        out(formatFields(fields));
      }
      return readiness.ready ? 0 : 1;
    },
  );

  const tokens = program.command('tokens').description('admin tokens (admin role)');
  remote(
    tokens
      .command('create')
      .description('create an admin token; its value is printed once')
      .requiredOption('--name <name>', 'what the token is for, for example "ci"')
      .addOption(new Option('--role <role>', 'what it may do').choices(ADMIN_ROLES).makeOptionMandatory()),
    async (client, options) => {
      const created = await client.createToken(options.name as string, options.role as AdminRole);
      if (options.json) return printJson(created);
      out(`✓ created admin token ${created.token.id} ${JSON.stringify(created.token.name)} (${created.token.role}).`);
      out('Its value is shown only now; store it (for example in PORTCULLIS_ADMIN_TOKEN):');
      out(`  ${created.value}`);
    },
  );
  remote(tokens.command('list').description('list admin tokens (never their values)'), async (client, options) => {
    const list = await client.listTokens();
    if (options.json) return printJson(list);
    out(
      formatTable(
        ['ID', 'NAME', 'ROLE', 'HINT', 'CREATED', 'LAST USED', 'STATUS'],
        list.tokens.map((t: PublicAdminToken) => [
          t.id,
          truncate(t.name, 40),
          t.role,
          `${t.hint}…`,
          formatTime(t.createdAt),
          formatTime(t.lastUsedAt),
          t.revokedAt ? `revoked ${formatTime(t.revokedAt)}` : 'active',
        ]),
      ),
    );
  });
  remote(
    tokens.command('revoke').description('revoke an admin token').argument('<id>', 'token id (see tokens list)'),
    async (client, options, id: string) => {
      const { token } = await client.revokeToken(id);
      if (options.json) return printJson({ token });
      out(`✓ revoked admin token ${token.id} ${JSON.stringify(token.name)} (${token.role})`);
    },
  );

  registerKeyCommands(program, remote, { out, err, printJson });
  registerCertsCommands(program, { out });
  registerAuditCommands(program, remote, { out, printJson, env: io.env, setExitCode: (code) => (exitCode = code) });
  registerAlarmCommands(program, remote, { out, printJson });
  registerIamCommands(program, remote, { out, err, printJson, setExitCode: (code) => (exitCode = code) });

  try {
    await program.parseAsync(argv as string[], { from: 'node' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    err(`portcullis: ${describeFailure(e)}`);
    return 1;
  }
}

interface ServeFlags {
  config?: string;
  dataDir: string;
  listen?: { host: string; port: number };
  adminListen?: { host: string; port: number };
  storage?: string;
  counters?: string;
  logLevel?: string;
  httpsListen?: { host: string; port: number };
  httpMode?: 'redirect' | 'refuse' | 'serve';
  certExpiryWarningDays?: number;
}

function describeFailure(e: unknown): string {
  if (e instanceof CliFailure || e instanceof AdminUnreachableError) return e.message;
  if (e instanceof AdminApiError) {
    if (e.status === 401) {
      return `the admin API refused the token (${e.message}); pass a valid one with --token or PORTCULLIS_ADMIN_TOKEN`;
    }
    if (e.status === 403) {
      const role = e.requiredRole ?? 'a higher';
      return `permission denied: this needs a token with the ${role} role${role === 'admin' ? '' : ' or higher'} (${e.message})`;
    }
    return `${e.message} (${e.status} ${e.code})`;
  }
  return e instanceof Error ? e.message : String(e);
}

async function readSource(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new CliFailure(`cannot read ${file}: ${why}`);
  }
}

function contentTypeOf(file: string): string {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'application/json';
  if (ext === '.yaml' || ext === '.yml') return 'application/yaml';
  return 'text/plain';
}

/**
 * Validates with the data plane's real compiler (a throwaway runtime, nothing listens), so a file that
 * passes here is not refused by `deploy` for a reason only compilation finds.
 */
async function validateLocally(source: Buffer, file: string): Promise<ValidationResult> {
  const [{ validateDefinition }, { createGatewayRuntime }, { createUpstreamPools }, { createMemoryCounters }] = await Promise.all([
    import('../control/control-plane.ts'),
    import('../gateway/runtime.ts'),
    import('../gateway/integrations/upstream-pools.ts'),
    import('../store/counters/memory-counters.ts'),
  ]);
  const counters = createMemoryCounters({ clock: systemClock });
  const pools = createUpstreamPools();
  try {
    const runtime = createGatewayRuntime({
      clock: systemClock,
      pools,
      stageDeps: { counters, clock: systemClock },
    });
    return validateDefinition(runtime, source, { fileName: file });
  } finally {
    await pools.close();
    await counters.close();
  }
}

/** HOST:PORT, [IPv6]:PORT or PORT (on 127.0.0.1). */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(value) ?? /^([^:[\]]*):(\d{1,5})$/.exec(value) ?? /^()(\d{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port > 65_535) throw new InvalidArgumentError('expected HOST:PORT, [IPv6]:PORT or PORT, with a port from 0 to 65535');
  return { host: m[1] || '127.0.0.1', port };
}

function parsePositiveInt(value: string): number {
  const n = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

// Shared by the control-plane, admin API and CLI tests: a fake SnapshotInstaller that records installs and
// can be told to refuse definitions, a logger that keeps its lines, definitions, and a bounded wait.
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { DefinitionError, type DefinitionProblem } from '../../src/config/load.ts';
import type { Definition } from '../../src/config/schema.ts';
import type { CompiledSnapshot, SnapshotInstaller } from '../../src/gateway/runtime-port.ts';
import { createLogger, type Logger } from '../../src/observe/logger.ts';

export interface FakeSnapshot extends CompiledSnapshot {
  /** The first route's mock body, to tell definitions apart. */
  readonly body: unknown;
}

export interface FakeInstaller extends SnapshotInstaller {
  readonly installs: FakeSnapshot[];
  readonly compiles: number[];
  /** Problems compile() throws (as a DefinitionError) for a definition; undefined to accept it. */
  reject: ((definition: Definition) => DefinitionProblem[] | undefined) | undefined;
  current(): FakeSnapshot | undefined;
}

export function createFakeInstaller(): FakeInstaller {
  let current: FakeSnapshot | undefined;
  const installer: FakeInstaller = {
    installs: [],
    compiles: [],
    reject: undefined,
    compile(definition, revision) {
      installer.compiles.push(revision);
      const problems = installer.reject?.(definition);
      if (problems) throw new DefinitionError(problems);
      const first = definition.apis[0]?.routes[0]?.integration;
      return {
        revision,
        apiCount: definition.apis.length,
        routeCount: definition.apis.reduce((n, api) => n + api.routes.length, 0),
        body: first?.type === 'mock' ? first.body : undefined,
      } satisfies FakeSnapshot;
    },
    install(snapshot) {
      current = snapshot as FakeSnapshot;
      installer.installs.push(current);
    },
    current: () => current,
  };
  return installer;
}

/** A one-API definition whose only route answers `body`, as YAML text. */
export function definitionYaml(body: string, extraRoutes: object[] = []): string {
  return stringify({
    apis: [
      {
        name: 'pets',
        stages: { prod: {} },
        routes: [{ method: 'GET', path: '/pets', integration: { type: 'mock', body } }, ...extraRoutes],
      },
    ],
  });
}

/** A logger writing JSON lines into `lines`, so tests can check what was (not) logged. */
export function createCapturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: 'debug', destination: { stream } }), lines };
}

/** Polls until fn returns truthy, failing after timeoutMs (for asynchronous convergence only). */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

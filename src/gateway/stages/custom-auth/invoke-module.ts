// Custom authorizers as local JavaScript modules (`module: name.mjs`), called in-process with AWS's event like
// a Lambda handler. Only modules in the directory the node's operator names (PORTCULLIS_AUTHORIZER_MODULES_DIR)
// can be loaded: whoever may deploy a definition must not be able to run arbitrary code on the gateway.
import { realpathSync } from 'node:fs';
import { join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readAnswer, type AuthorizerAnswer } from './invoke.ts';

/** The environment variable naming the directory module authorizers are loaded from (unset: none can be). */
export const AUTHORIZER_MODULES_ENV = 'PORTCULLIS_AUTHORIZER_MODULES_DIR';

export type Handler = (event: unknown) => unknown;

const TIMEOUT = Symbol('timeout');

// A module is imported once per process (like a warm Lambda container): restart the node to load new code.
const loaded = new Map<string, Promise<Handler>>();

/** The handler of `<dir>/<name>`: its `handler` export, or a default export that is a function. */
function load(dir: string, name: string): Promise<Handler> {
  const file = join(dir, name);
  let p = loaded.get(file);
  if (p === undefined) {
    p = (async () => {
      let real: string;
      try {
        real = realpathSync(file);
      } catch {
        throw new Error(`module ${file} does not exist`);
      }
      // The name has no slashes (schema), but a symbolic link could still lead elsewhere.
      if (!real.startsWith(realpathSync(dir) + sep)) throw new Error(`module ${file} resolves outside ${dir}`);
      const mod = (await import(pathToFileURL(real).href)) as { handler?: unknown; default?: unknown };
      const fn = typeof mod.handler === 'function' ? mod.handler : typeof mod.default === 'function' ? mod.default : undefined;
      if (fn === undefined) throw new Error(`module ${file} exports no handler function`);
      return fn as Handler;
    })();
    // A failed load is retried on a later request (the operator may be fixing the file), not remembered.
    p.catch(() => loaded.delete(file));
    loaded.set(file, p);
  }
  return p;
}

/**
 * An invoker for a module authorizer. `dir` is the operator's modules directory (undefined: module authorizers are
 * disabled on this node, and every call is a configuration error). The handler's result is read exactly like an
 * HTTP authorizer's answer; throwing `Error("Unauthorized")` is a 401, as with Lambda.
 */
export function createModuleInvoker(dir: string | undefined, name: string): (event: unknown, timeoutMs: number, simple: boolean) => Promise<AuthorizerAnswer> {
  return async (event, timeoutMs, simple) => {
    if (dir === undefined) return { kind: 'error', detail: `module authorizers are disabled on this node (set ${AUTHORIZER_MODULES_ENV})` };
    let handler: Handler;
    try {
      handler = await load(dir, name);
    } catch (err) {
      return { kind: 'error', detail: `cannot load authorizer module: ${(err as Error).message}` };
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMEOUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT), timeoutMs);
      timer.unref();
    });
    try {
      const result = await Promise.race([Promise.resolve().then(() => handler(event)), timeout]);
      if (result === TIMEOUT) return { kind: 'error', detail: `no answer within ${timeoutMs} ms` };
      // Answers cross the same JSON boundary as an HTTP authorizer's: no functions, prototypes or shared objects.
      let plain: unknown;
      try {
        plain = result === undefined ? undefined : JSON.parse(JSON.stringify(result));
      } catch (err) {
        return { kind: 'error', detail: `answer is not JSON-serialisable: ${(err as Error).message}` };
      }
      return readAnswer(plain, simple);
    } catch (err) {
      if (err === 'Unauthorized' || (err instanceof Error && err.message === 'Unauthorized')) return { kind: 'unauthorized' };
      return { kind: 'error', detail: `handler failed: ${err instanceof Error ? err.message : String(err)}` };
    } finally {
      clearTimeout(timer);
    }
  };
}

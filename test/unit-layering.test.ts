// Architecture rules checked on the source: the data plane does not import the control plane, and no
// runtime code imports the AGPL policy simulator (a test oracle only).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const src = readFileSync(file, 'utf8');
  return [...src.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g), ...src.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]);
}

test('the data plane does not import the control plane, admin API, CLI or node composition', () => {
  const offenders: string[] = [];
  for (const file of files(join(root, 'src/gateway'))) {
    for (const spec of imports(file)) {
      if (/(^|\/)(control|admin|cli|server)\//.test(spec)) offenders.push(`${relative(root, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test('no runtime code imports the AGPL IAM simulator', () => {
  const offenders = files(join(root, 'src'))
    .filter((f) => imports(f).some((s) => s.startsWith('@cloud-copilot/')))
    .map((f) => relative(root, f));
  assert.deepEqual(offenders, []);
});

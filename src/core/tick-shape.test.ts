// The pinned nextTick entry: a real queue entry, and after a memory-reducing full collection (the one the
// gateway runs after start and after large deploys) new entries still get its hidden class, which is what
// keeps V8's feedback for nextTick's object literal monomorphic (src/core/tick-shape.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { pinNextTickShape } from './tick-shape.ts';

const tmp = mkdtempSync(join(tmpdir(), 'portcullis-tick-shape-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the pinned object is a real nextTick queue entry, and pinning is idempotent', () => {
  const entry = pinNextTickShape();
  assert.ok(entry !== null);
  assert.equal(pinNextTickShape(), entry);
  const symbols = Object.getOwnPropertySymbols(entry).map((s) => s.description);
  assert.deepEqual(symbols, ['async_id_symbol', 'trigger_async_id_symbol']);
  assert.deepEqual(Object.keys(entry), ['callback', 'args']);
});

/**
 * A child process: optionally pins, runs nextTick until V8 has feedback for it, runs the memory-reducing
 * collection the gateway runs after start, runs nextTick again, and prints V8's states for the four
 * properties of nextTick's object literal (%DebugPrint of the function lists its feedback slots).
 */
function literalFeedbackAfterCollection(pin: boolean): { states: string[]; same: boolean | null } {
  const script = join(tmp, `child-${pin}.mjs`);
  writeFileSync(script, `
    import { createHook } from 'node:async_hooks';
    import { Session } from 'node:inspector';
    const { pinNextTickShape } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'tick-shape.ts')).href)});
    const natives = (code) => new Function('a', 'b', code);
    const pinned = ${pin} ? pinNextTickShape() : null;
    for (let i = 0; i < 200; i++) await new Promise((resolve) => process.nextTick(resolve));
    await new Promise((resolve, reject) => {
      const session = new Session();
      session.connect();
      session.post('HeapProfiler.collectGarbage', (err) => setImmediate(() => (session.disconnect(), err ? reject(err) : resolve())));
    });
    for (let i = 0; i < 200; i++) await new Promise((resolve) => process.nextTick(resolve));
    let fresh;
    const hook = createHook({ init(_id, type, _trigger, resource) { if (type === 'TickObject') fresh ??= resource; } }).enable();
    process.nextTick(() => {});
    hook.disable();
    const same = pinned ? natives('return %HaveSameMap(a, b)')(pinned, fresh) : null;
    process.stdout.write('RESULT ' + JSON.stringify({ same }) + '\\n');
    natives('%DebugPrint(a)')(process.nextTick);
  `);
  // Without the test runner's NODE_TEST_CONTEXT (the child would report to it), and stdout to a file:
  // V8 prints %DebugPrint through C stdio, which a pipe does not always get whole.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const outFile = join(tmp, `child-${pin}.out`);
  const out = openSync(outFile, 'w');
  const run = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', script], { encoding: 'utf8', env, stdio: ['ignore', out, 'pipe'] });
  closeSync(out);
  assert.equal(run.status, 0, run.stderr);
  const stdout = readFileSync(outFile, 'utf8');
  const states = [...stdout.matchAll(/slot #\d+ DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((m) => m[1]!);
  const result = JSON.parse(/RESULT (.*)/.exec(stdout)![1]!) as { same: boolean | null };
  return { states, same: result.same };
}

test('after a memory-reducing collection nextTick keeps one hidden class per literal property (pinned), and loses it without', () => {
  const pinned = literalFeedbackAfterCollection(true);
  assert.deepEqual(pinned.states, ['MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC']);
  assert.equal(pinned.same, true, 'new entries still get the pinned hidden class');
  const unpinned = literalFeedbackAfterCollection(false);
  assert.equal(unpinned.states.length, 4);
  // The trap this module exists for, as V8 11 (Node 20) has it; a later V8 may not fall into it.
  if (process.versions.v8.startsWith('11.')) assert.ok(unpinned.states.includes('MEGAMORPHIC'), unpinned.states.join(', '));
});

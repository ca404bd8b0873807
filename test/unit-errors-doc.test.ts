// Keeps the gateway-response catalogue and docs/errors.md in step (STYLE.md 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ALL_RESPONSE_TYPES, RESPONSE_TYPES } from '../src/core/gateway-responses.ts';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

test('every gateway response type is documented with its status and error type', () => {
  for (const type of ALL_RESPONSE_TYPES) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${type}\` |`));
    assert.ok(row, `docs/errors.md has no row for ${type}`);
    const info = RESPONSE_TYPES[type];
    if (info.status !== null) assert.ok(row.includes(`| ${info.status} |`), `${type}: status ${info.status} not documented`);
    if (info.errorType) assert.ok(row.includes(info.errorType), `${type}: ${info.errorType} not documented`);
    if (info.message) assert.ok(row.includes(info.message.slice(0, 60)), `${type}: message not documented`);
  }
});

test('the documentation lists no type the catalogue does not have', () => {
  const documented = [...doc.matchAll(/^\| `([A-Z_0-9]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(documented.filter((t) => !(t in RESPONSE_TYPES)), []);
});

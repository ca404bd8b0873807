// AWS's key CSV: case-insensitive headers in any order, quotes of both kinds, problems by row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { csvField, parseKeyCsv } from './csv.ts';

test('headers in any order and case, defaults, booleans, quoted plan lists, unknown columns ignored', () => {
  const { rows, problems } = parseKeyCsv('\ufeffKEY,extra,name,Enabled,usagePlanIds,Description\r\nv1,x,n1,,"a,b",\r\nv2,x,n2,FaLsE,\'c\',"say ""hi"""\n');
  assert.deepEqual(problems, []);
  assert.deepEqual(rows, [
    { row: 2, name: 'n1', value: 'v1', description: '', enabled: true, plans: ['a', 'b'] },
    { row: 3, name: 'n2', value: 'v2', description: 'say "hi"', enabled: false, plans: ['c'] },
  ]);
});

test('missing columns, bad booleans, short rows and broken quotes are reported with their row', () => {
  assert.match(parseKeyCsv('Name,Description\nx,y\n').problems[0]!.message, /required column Key is missing/);
  assert.deepEqual(parseKeyCsv('').problems, [{ row: 1, message: 'the file is empty: the first line must name the columns (Name, Key, ...)' }]);
  const { problems } = parseKeyCsv('Name,Key,Enabled\na,v,yes\nb\nc,"v,true\n');
  assert.deepEqual(problems.map((p) => p.row).sort(), [2, 3, 4]);
  assert.match(problems.find((p) => p.row === 4)!.message, /never closed/);
  assert.match(parseKeyCsv('Name,Key\na,"v"x\n').problems[0]!.message, /after a closing quote/);
});

test('csvField quotes only when needed', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "x"'), '"say ""x"""');
});

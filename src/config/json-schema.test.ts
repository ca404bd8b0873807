// The committed schema/definition.schema.json must be what scripts/write-json-schema.ts writes today.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFINITION_SCHEMA_FILE, DEFINITION_SCHEMA_ID, definitionJsonSchema, definitionJsonSchemaText } from './json-schema.ts';

test('schema/definition.schema.json is up to date (run: npm run schema)', () => {
  const committed = readFileSync(fileURLToPath(new URL(`../../${DEFINITION_SCHEMA_FILE}`, import.meta.url)), 'utf8');
  assert.equal(committed, definitionJsonSchemaText(), 'stale: run `npm run schema` and commit the result');
});

test('the JSON Schema has an id and a title, and defaults make fields optional', () => {
  const schema = definitionJsonSchema() as {
    $id: string;
    title: string;
    required?: string[];
    properties: { apis: { items: { required: string[] } } };
  };
  assert.equal(schema.$id, DEFINITION_SCHEMA_ID);
  assert.equal(schema.title, 'Portcullis API definition');
  assert.deepEqual(schema.required, ['apis']);
  // basePath has a default, so an editor must not ask for it.
  assert.deepEqual(schema.properties.apis.items.required.sort(), ['name', 'routes', 'stages']);
});

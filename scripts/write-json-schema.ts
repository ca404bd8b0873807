// Writes schema/definition.schema.json from the zod definition schema (npm run schema). A test fails when the
// committed file is stale, so run this after changing src/config/schema.ts.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFINITION_SCHEMA_FILE, definitionJsonSchemaText } from '../src/config/json-schema.ts';

const target = fileURLToPath(new URL(`../${DEFINITION_SCHEMA_FILE}`, import.meta.url));
writeFileSync(target, definitionJsonSchemaText());
console.log(`wrote ${DEFINITION_SCHEMA_FILE}`);

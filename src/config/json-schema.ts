// The JSON Schema of the definition, generated from DefinitionSchema, for editors (YAML and JSON language
// servers) to complete and check definition files. scripts/write-json-schema.ts writes it to schema/.
import { z } from 'zod';
import { DefinitionSchema } from './schema.ts';

export const DEFINITION_SCHEMA_ID = 'urn:portcullis:schema:definition:1';
export const DEFINITION_SCHEMA_FILE = 'schema/definition.schema.json';

export function definitionJsonSchema(): Record<string, unknown> {
  // io 'input': fields with defaults are optional, as a person writes the file.
  const generated = z.toJSONSchema(DefinitionSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: DEFINITION_SCHEMA_ID,
    title: 'Portcullis API definition',
    description:
      'APIs, stages and routes served by the Portcullis gateway (Amazon API Gateway REST API semantics). ' +
      'The gateway also checks what a schema cannot: unique names, route conflicts, integration URLs in every stage.',
    ...rest,
  };
}

/** The file's exact text: stable key order, two-space indent, final newline. */
export function definitionJsonSchemaText(): string {
  return `${JSON.stringify(definitionJsonSchema(), null, 2)}\n`;
}

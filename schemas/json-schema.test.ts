import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JSON_SCHEMA_FILES, renderJsonSchema } from './json-schema.js';

// The JSON Schema files in schemas/json are generated from the zod contract for collectors in
// other languages. This test fails when they are stale: run `npm run schemas:export`.

describe('JSON Schema export', () => {
  it.each(Object.entries(JSON_SCHEMA_FILES))('schemas/json/%s is current', (file, schema) => {
    const committed = readFileSync(join(import.meta.dirname, 'json', file), 'utf8');
    expect(committed, `schemas/json/${file} is stale: run npm run schemas:export`).toBe(
      renderJsonSchema(schema),
    );
  });

  it('is self-contained (no $ref), so it can be embedded in an OpenAPI document', () => {
    const event = readFileSync(join(import.meta.dirname, 'json', 'agenttrail-event.v1.schema.json'), 'utf8');
    expect(event).not.toContain('"$ref"');
  });

  it('describes every event type', () => {
    const event = JSON.parse(
      readFileSync(join(import.meta.dirname, 'json', 'agenttrail-event.v1.schema.json'), 'utf8'),
    ) as { oneOf: Array<{ properties: { type: { const: string } } }> };
    expect(event.oneOf.map((v) => v.properties.type.const).sort()).toMatchInlineSnapshot(`
      [
        "action",
        "approval.denied",
        "approval.granted",
        "approval.requested",
        "credential.issued",
        "credential.revoked",
        "task.declared",
        "task.delegated",
        "task.ended",
        "task.scope_changed",
      ]
    `);
  });
});

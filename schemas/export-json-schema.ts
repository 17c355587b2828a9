import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JSON_SCHEMA_FILES, renderJsonSchema } from './json-schema.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), 'json');
mkdirSync(outDir, { recursive: true });
for (const [file, schema] of Object.entries(JSON_SCHEMA_FILES)) {
  writeFileSync(join(outDir, file), renderJsonSchema(schema));
  process.stderr.write(`wrote schemas/json/${file}\n`);
}
// The Python SDK validates with (and ships) its own copy of the event schema: its hash chain
// depends on applying the same defaults (sdk/python/tests/test_schema.py checks the copy).
const pythonCopy = join(outDir, '../../sdk/python/agenttrail/event.v1.schema.json');
writeFileSync(pythonCopy, renderJsonSchema(JSON_SCHEMA_FILES['agenttrail-event.v1.schema.json']));
process.stderr.write('wrote sdk/python/agenttrail/event.v1.schema.json\n');

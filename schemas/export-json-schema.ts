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

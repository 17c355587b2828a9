import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { fieldErrors } from '../../schemas/validate.js';
import { AgentTrailError } from './errors.js';

// Configuration documents (YAML or JSON files: the MCP proxy's config, tool mapping files),
// read and validated with errors that name the file and each field's path in it.

const invalid = (message: string) => new AgentTrailError('AT_ERR_CONFIG_INVALID', message);

/** Validate a parsed document; the error names the file and each field's path in it. */
export function parseDocument<S extends z.ZodType>(schema: S, doc: unknown, source: string): z.infer<S> {
  const result = schema.safeParse(doc);
  if (result.success) return result.data;
  const problems = fieldErrors(result.error).map(
    (e) => `${e.path === '(event)' ? '(root)' : e.path}: ${e.message}`,
  );
  throw invalid(`${source}: ${problems.join('; ')}`);
}

/** Read a YAML or JSON file (YAML is a superset of JSON). */
export function readDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw invalid(`${path} cannot be read: ${(err as Error).message}`);
  }
  try {
    return path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw invalid(
      `${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`,
    );
  }
}

import { PLACEHOLDER_PREFIX } from './placeholder.js';
import { FIELD_RULES, SECRET_NAME } from './rules.js';

/** Normalise a key for field rules: `API-Key`, `api_key`, `apiKey` all become `apikey`. */
const normaliseKey = (key: string) => key.toLowerCase().replace(/[-_.\s]/g, '');

/** Field names repeat endlessly (`path`, `url`, `query`…): remember which can hold a secret. */
const secretLikeNames = new Map<string, boolean>();

/** The field rule's kind when `value`, under `key`, is a secret by its key alone. */
export function fieldRuleFor(key: string | undefined, value: string): string | undefined {
  if (key === undefined) return undefined;
  let secretLike = secretLikeNames.get(key);
  if (secretLike === undefined) {
    secretLike = SECRET_NAME.test(normaliseKey(key));
    if (secretLikeNames.size > 10_000) secretLikeNames.clear();
    secretLikeNames.set(key, secretLike);
  }
  if (!secretLike || value.includes(PLACEHOLDER_PREFIX)) return undefined;
  const name = normaliseKey(key);
  // Identifier fields (`credential_id`, `approval_id`) are references the detector needs, and
  // ids are high-entropy by design; a session id is the exception: it is a bearer secret.
  if (name.endsWith('id') && name !== 'sessionid') return undefined;
  for (const rule of FIELD_RULES) {
    if (rule.name.test(name) && rule.accept(value)) return rule.kind;
  }
  return undefined;
}

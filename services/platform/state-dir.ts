import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The one answer to "where does local state go": the stack's engines, the gateway's keys file,
// the detector's snapshot and test logs all derive from it. It lives here, not in stack/, because
// the services image ships services/ only (see Dockerfile).

const checkoutRoot = fileURLToPath(new URL('../..', import.meta.url));

/** AGENTTRAIL_STATE_DIR (resolved against the cwd), else `.state/` in the checkout (gitignored). */
export function stateDir(): string {
  const fromEnv = process.env.AGENTTRAIL_STATE_DIR?.trim();
  return fromEnv ? resolve(fromEnv) : join(checkoutRoot, '.state');
}

/** A path inside the state dir, read when called (so settings parsed later see a later env). */
export const statePath = (...parts: string[]): string => join(stateDir(), ...parts);

import { spawnSync } from 'node:child_process';

/** Fail early with an actionable message instead of a cryptic ENOENT from spawn. */
export function requireTool(command: string, versionArgs: string[], hint: string): void {
  const res = spawnSync(command, versionArgs, { stdio: 'ignore' });
  if (res.error || res.status !== 0) {
    throw new Error(`'${command}' is required for the local stack but was not found or failed. ${hint}`);
  }
}

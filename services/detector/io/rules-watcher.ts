import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../../platform/logger.js';
import { loadRules } from '../rules/sequence/load.js';
import type { RuleLoadIssue, RuleSet } from '../rules/sequence/types.js';

// Rules reload without a restart: on a change to any rules file (or SIGHUP) the whole set is
// read and compiled again. A set with errors is rejected with its coded, located errors and the
// running set stays; a good set is handed to `apply` (which swaps it between batches).

export type RulesLoad =
  | { ok: true; ruleSet: RuleSet; warnings: RuleLoadIssue[] }
  | { ok: false; errors: RuleLoadIssue[] };

/** Read and compile the files, in order. An unreadable file is an error like any other. */
export function loadRulesFiles(paths: readonly string[]): RulesLoad {
  const sources: { name: string; text: string }[] = [];
  const errors: RuleLoadIssue[] = [];
  for (const p of paths) {
    try {
      sources.push({ name: p, text: readFileSync(p, 'utf8') });
    } catch (err) {
      errors.push({ code: 'AT_ERR_RULES_READ', message: (err as Error).message, file: p });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  const r = loadRules(sources);
  if (!r.ok || r.ruleSet === undefined) return { ok: false, errors: r.errors };
  return { ok: true, ruleSet: r.ruleSet, warnings: r.warnings };
}

export interface RulesWatcher {
  /** Reload now (also what SIGHUP does). Resolves with whether the new set was applied. */
  reload(reason: string): Promise<boolean>;
  close(): void;
}

export function watchRules(opts: {
  paths: readonly string[];
  apply: (rules: RuleSet) => Promise<void>;
  log: Logger;
  onResult?: (ok: boolean) => void;
  debounceMs?: number;
}): RulesWatcher {
  const log = opts.log.child({ component: 'rules' });
  const watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<boolean> = Promise.resolve(true);

  async function reloadOnce(reason: string): Promise<boolean> {
    const r = loadRulesFiles(opts.paths);
    if (!r.ok) {
      log.error(
        {
          reason,
          errors: r.errors.map((e) => `${e.code} ${e.file}:${e.line ?? '?'} ${e.item ?? ''} ${e.message}`),
        },
        'rules reload rejected; keeping the running rules',
      );
      opts.onResult?.(false);
      return false;
    }
    await opts.apply(r.ruleSet);
    for (const w of r.warnings) log.warn({ code: w.code, file: w.file, line: w.line }, w.message);
    log.info(
      { reason, name: r.ruleSet.name, version: r.ruleSet.version, rules: r.ruleSet.rules.length },
      'rules reloaded',
    );
    opts.onResult?.(true);
    return true;
  }

  const reload = (reason: string) => {
    running = running.then(() => reloadOnce(reason));
    return running;
  };

  // Watch the directories, not the files: editors and config managers replace a file by
  // renaming a new one over it, which ends a watch on the old inode.
  const byDir = new Map<string, Set<string>>();
  for (const p of opts.paths) {
    const abs = resolve(p);
    const names = byDir.get(dirname(abs)) ?? new Set<string>();
    names.add(basename(abs));
    byDir.set(dirname(abs), names);
  }
  for (const [dir, names] of byDir) {
    try {
      const w = watch(dir, (_event, file) => {
        if (file !== null && !names.has(String(file))) return;
        clearTimeout(timer);
        timer = setTimeout(() => void reload('file changed'), opts.debounceMs ?? 250);
      });
      w.on('error', (err) =>
        log.warn({ err: err.message, dir }, 'rules directory watch failed; SIGHUP still reloads'),
      );
      watchers.push(w);
    } catch (err) {
      log.warn(
        { err: (err as Error).message, dir },
        'cannot watch the rules directory; SIGHUP still reloads',
      );
    }
  }
  const onHup = () => void reload('SIGHUP');
  process.on('SIGHUP', onHup);

  return {
    reload,
    close() {
      clearTimeout(timer);
      process.off('SIGHUP', onHup);
      for (const w of watchers) w.close();
    },
  };
}

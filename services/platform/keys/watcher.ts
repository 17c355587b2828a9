import { existsSync, type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Logger } from '../logger.js';
import { type KeyStore, readKeysFile } from './store.js';

// Keys take effect without a restart: `agenttrail keys create` / `keys revoke` rewrite the keys
// file, and a service (gateway, API) reloads it on change (as the detector reloads its rules files). A file
// that does not load is rejected with an error log and the keys in use stay: a broken edit must
// neither open a service up nor lock every client out without a word.

export interface KeysWatcher {
  /** Reload now (also what SIGHUP does). Returns whether the file's keys were applied. */
  reload(reason: string): boolean;
  close(): void;
}

/** What identifies one version of the file: a rename over it changes ino, an edit mtime/size. */
function signature(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}

export function watchKeysFile(opts: {
  path: string;
  keys: KeyStore;
  log: Logger;
  debounceMs?: number;
  /** Stat poll, for file systems where fs.watch sees nothing (network and some bind mounts). */
  pollMs?: number;
}): KeysWatcher {
  const path = resolve(opts.path);
  const log = opts.log.child({ component: 'keys' });
  let seen = signature(path);
  let timer: NodeJS.Timeout | undefined;

  function reload(reason: string): boolean {
    seen = signature(path);
    const inUse = opts.keys.size;
    try {
      // A missing file reads as "no keys": on reload that is an accident (a volume not mounted,
      // a wrong path), not a way to revoke everything, so it is refused like a broken file.
      if (!existsSync(path)) throw new Error(`${path} does not exist`);
      const file = readKeysFile(path);
      opts.keys.replace(file.keys);
      const revoked = file.keys.filter((k) => k.revoked_at).length;
      log.info({ reason, file: path, keys: opts.keys.size, revoked }, 'keys reloaded');
      if (opts.keys.size === 0) log.warn({ file: path }, 'no active API keys: every request will get 401');
      return true;
    } catch (err) {
      log.error(
        { reason, file: path, keys: inUse, err: (err as Error).message },
        'keys file reload rejected; keeping the keys in use',
      );
      return false;
    }
  }

  // Editors and `keys create` replace the file by renaming a new one over it, which ends a watch
  // on the old inode: watch the directory and pick out the file's name.
  const schedule = (why: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (signature(path) !== seen) reload(why);
    }, opts.debounceMs ?? 250);
    timer.unref();
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), (_event, file) => {
      if (file === null || String(file) === basename(path)) schedule('file changed');
    });
    watcher.on('error', (err) => log.warn({ err: err.message, file: path }, 'keys file watch failed'));
  } catch (err) {
    log.warn({ err: (err as Error).message, file: path }, 'cannot watch the keys directory; polling only');
  }
  const poll = setInterval(() => {
    if (signature(path) !== seen) schedule('file changed (poll)');
  }, opts.pollMs ?? 2_000);
  poll.unref();

  const onHup = () => void reload('SIGHUP');
  process.on('SIGHUP', onHup);

  return {
    reload,
    close() {
      clearTimeout(timer);
      clearInterval(poll);
      process.off('SIGHUP', onHup);
      watcher?.close();
    },
  };
}

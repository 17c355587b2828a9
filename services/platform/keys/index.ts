// Keys of both kinds (collector and API): the store, the file watcher, the presented key.
export { presentedKey } from './presented.js';
export * from './store.js';
export { type KeysWatcher, watchKeysFile } from './watcher.js';

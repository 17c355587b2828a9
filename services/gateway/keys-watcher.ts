// The keys file watcher lives with the key store (services/platform/keys), shared with the API.
export { type KeysWatcher, watchKeysFile } from '../platform/keys/watcher.js';

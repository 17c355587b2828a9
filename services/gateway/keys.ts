// The gateway's collector keys: the shared key store (services/platform/keys), kind `collector`.
export * from '../platform/keys/store.js';

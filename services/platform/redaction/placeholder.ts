// The typed placeholder a secret is replaced with. Key-free and fixed per kind: the SDK's keyless
// run must write the same bytes as the gateway's keyed run (see redact.ts and sdk/seal.ts).
export const PLACEHOLDER_PREFIX = '[REDACTED:';
export const placeholder = (kind: string) => `${PLACEHOLDER_PREFIX}${kind}]`;

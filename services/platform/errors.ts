// The error catalogue: every deliberate error has a stable code, an HTTP status and whether
// retrying can help. Codes are never reused. README's "Errors" table mirrors this list.

export interface ErrorSpec {
  status: number;
  retriable: boolean;
  summary: string;
}

export const ERRORS = {
  AT_ERR_CONFIG_INVALID: {
    status: 500,
    retriable: false,
    summary: 'a configuration value is missing or invalid',
  },
  AT_ERR_AUTH_MISSING: { status: 401, retriable: false, summary: 'no API key was presented' },
  AT_ERR_AUTH_INVALID: { status: 401, retriable: false, summary: 'the API key is unknown or revoked' },
  AT_ERR_AUTH_FORBIDDEN: { status: 403, retriable: false, summary: 'the key may not act for that tenant' },
  AT_ERR_EVENT_INVALID: { status: 422, retriable: false, summary: 'an event failed schema validation' },
  AT_ERR_BODY_MALFORMED: { status: 400, retriable: false, summary: 'the body is not valid JSON or NDJSON' },
  AT_ERR_BODY_TOO_LARGE: { status: 413, retriable: false, summary: 'the body or batch exceeds the limit' },
  AT_ERR_RATE_LIMITED: { status: 429, retriable: true, summary: 'the key exceeded its rate limit' },
  AT_ERR_KAFKA_UNAVAILABLE: { status: 503, retriable: true, summary: 'Kafka did not acknowledge the write' },
  AT_ERR_CLICKHOUSE_UNAVAILABLE: {
    status: 503,
    retriable: true,
    summary: 'ClickHouse did not accept the query',
  },
  AT_ERR_MESSAGE_POISON: {
    status: 422,
    retriable: false,
    summary: 'a Kafka message cannot be parsed or validated',
  },
  AT_ERR_MIGRATION_FAILED: {
    status: 500,
    retriable: false,
    summary: 'a ClickHouse schema migration failed or an applied one was edited',
  },
  AT_ERR_RULES_INVALID: { status: 422, retriable: false, summary: 'a rules file failed to load' },
  AT_ERR_NOT_FOUND: { status: 404, retriable: false, summary: 'no such resource' },
  AT_ERR_INTERNAL: {
    status: 500,
    retriable: true,
    summary: 'an unexpected error; details are in the service log',
  },
  AT_ERR_DELIVERY_FAILED: { status: 502, retriable: true, summary: 'a destination did not accept a page' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export class AgentTrailError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retriable: boolean;
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentTrailError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retriable = ERRORS[code].retriable;
    this.details = options?.details;
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof AgentTrailError ? err.retriable : false;
}

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
  AT_ERR_BAD_REQUEST: {
    status: 400,
    retriable: false,
    summary: 'the request is malformed (headers, URL or framing), before its body is read',
  },
  AT_ERR_BODY_MALFORMED: {
    status: 400,
    retriable: false,
    summary: 'the body is not valid UTF-8, JSON or NDJSON, or is nested too deeply',
  },
  AT_ERR_BODY_TOO_LARGE: {
    status: 413,
    retriable: false,
    summary: 'the body, the batch or one event exceeds its limit',
  },
  AT_ERR_METHOD_NOT_ALLOWED: {
    status: 405,
    retriable: false,
    summary: 'the path exists but not with this method (see the Allow header)',
  },
  AT_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retriable: false,
    summary: 'the Content-Type is not one the endpoint reads',
  },
  AT_ERR_REQUEST_TIMEOUT: {
    status: 408,
    retriable: true,
    summary: 'the request was not received in time',
  },
  AT_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    retriable: false,
    summary: 'the request headers exceed the server limit',
  },
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
  AT_ERR_CLICKHOUSE_REJECTED: {
    status: 422,
    retriable: false,
    summary: 'ClickHouse refused a row as data; the row went to the dead-letter topic',
  },
  AT_ERR_RULES_INVALID: { status: 422, retriable: false, summary: 'a rules file failed to load' },
  // The rules loader's problems (services/detector/rules/sequence/load.ts): each names a file,
  // an item and what is wrong; any of them makes the file fail to load (AT_ERR_RULES_INVALID).
  AT_ERR_RULES_READ: { status: 422, retriable: false, summary: 'a rules file cannot be read' },
  AT_ERR_RULES_YAML: { status: 422, retriable: false, summary: 'a rules file is not valid YAML' },
  AT_ERR_RULES_NOT_A_LIST: {
    status: 422,
    retriable: false,
    summary: 'a rules file is not a YAML list of items',
  },
  AT_ERR_RULES_SCHEMA: {
    status: 422,
    retriable: false,
    summary: 'a rules item is not a valid list, macro, rule or header',
  },
  AT_ERR_RULES_ENGINE_VERSION: {
    status: 422,
    retriable: false,
    summary: 'a rules file needs a newer rules engine',
  },
  AT_ERR_RULES_DUPLICATE: {
    status: 422,
    retriable: false,
    summary: 'a rule, macro, list or step name is defined twice',
  },
  AT_ERR_RULES_APPEND_UNKNOWN: {
    status: 422,
    retriable: false,
    summary: 'an append names a rule, macro or list that does not exist',
  },
  AT_ERR_RULES_ABSENT: {
    status: 422,
    retriable: false,
    summary: 'an absence step is misplaced or references a missing step',
  },
  AT_ERR_RULES_BAD_REF: { status: 422, retriable: false, summary: 'a condition refers to an unknown step' },
  AT_ERR_RULES_UNKNOWN_LIST: { status: 422, retriable: false, summary: 'a condition names an unknown list' },
  AT_ERR_RULES_UNKNOWN_MACRO: {
    status: 422,
    retriable: false,
    summary: 'a condition names an unknown macro',
  },
  AT_ERR_RULES_MACRO_CYCLE: {
    status: 422,
    retriable: false,
    summary: 'macros refer to each other in a cycle',
  },
  AT_ERR_NOT_FOUND: { status: 404, retriable: false, summary: 'no such resource' },
  AT_ERR_INTERNAL: {
    status: 500,
    retriable: true,
    summary: 'an unexpected error; details are in the service log',
  },
  AT_ERR_DELIVERY_FAILED: { status: 502, retriable: true, summary: 'a destination did not accept a page' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** Warnings: reported (logs, `agenttrail rules check`), never refused for. */
export const WARNINGS = {
  AT_WARN_RULES_UNKNOWN_FIELD: 'a condition names a field no event has',
  AT_WARN_RULES_UNKNOWN_FRAMEWORK: 'a rule names a framework tag that is not a known one',
  AT_WARN_RULES_UNUSED_MACRO: 'a macro no rule uses',
  AT_WARN_RULES_UNUSED_LIST: 'a list no rule or macro uses',
} as const;

export type WarningCode = keyof typeof WARNINGS;

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

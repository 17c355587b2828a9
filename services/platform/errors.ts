// The error catalogue: every deliberate error has a stable code, an HTTP status, whether
// retrying can help and where an operator or client meets it. Codes are never reused.
// README's error table is generated from this list (`npm run docs`), and a test keeps it so.

export interface ErrorSpec {
  status: number;
  retriable: boolean;
  summary: string;
  /** Where it surfaces: an HTTP answer, a dead-letter header, a service exit, a log and metric. */
  seen:
    | 'HTTP answer'
    | 'dead-letter header'
    | 'exit at start'
    | 'rules check'
    | 'log and metric'
    | 'MCP error';
}

export const ERRORS = {
  AT_ERR_CONFIG_INVALID: {
    status: 500,
    retriable: false,
    summary: 'a configuration value is missing or invalid',
    seen: 'exit at start',
  },
  AT_ERR_AUTH_MISSING: {
    status: 401,
    retriable: false,
    summary: 'no API key was presented',
    seen: 'HTTP answer',
  },
  AT_ERR_AUTH_INVALID: {
    status: 401,
    retriable: false,
    summary: 'the API key is unknown or revoked',
    seen: 'HTTP answer',
  },
  AT_ERR_AUTH_FORBIDDEN: {
    status: 403,
    retriable: false,
    summary: 'the key may not act for that tenant',
    seen: 'HTTP answer',
  },
  AT_ERR_EVENT_INVALID: {
    status: 422,
    retriable: false,
    summary: 'an event failed schema validation',
    seen: 'HTTP answer',
  },
  AT_ERR_BAD_REQUEST: {
    status: 400,
    retriable: false,
    summary: 'the request is malformed (headers, URL or framing), before its body is read',
    seen: 'HTTP answer',
  },
  AT_ERR_BODY_MALFORMED: {
    status: 400,
    retriable: false,
    summary: 'the body is not valid UTF-8, JSON or NDJSON, or is nested too deeply',
    seen: 'HTTP answer',
  },
  AT_ERR_BODY_TOO_LARGE: {
    status: 413,
    retriable: false,
    summary: 'the body, the batch or one event exceeds its limit',
    seen: 'HTTP answer',
  },
  AT_ERR_METHOD_NOT_ALLOWED: {
    status: 405,
    retriable: false,
    summary: 'the path exists but not with this method (see the Allow header)',
    seen: 'HTTP answer',
  },
  AT_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retriable: false,
    summary: 'the Content-Type is not one the endpoint reads',
    seen: 'HTTP answer',
  },
  AT_ERR_REQUEST_TIMEOUT: {
    status: 408,
    retriable: true,
    summary: 'the request was not received in time',
    seen: 'HTTP answer',
  },
  AT_ERR_HEADERS_TOO_LARGE: {
    status: 431,
    retriable: false,
    summary: 'the request headers exceed the server limit',
    seen: 'HTTP answer',
  },
  AT_ERR_RATE_LIMITED: {
    status: 429,
    retriable: true,
    summary: 'the key exceeded its rate limit',
    seen: 'HTTP answer',
  },
  AT_ERR_KAFKA_UNAVAILABLE: {
    status: 503,
    retriable: true,
    summary: 'Kafka did not acknowledge the write',
    seen: 'HTTP answer',
  },
  AT_ERR_CLICKHOUSE_UNAVAILABLE: {
    status: 503,
    retriable: true,
    summary:
      'ClickHouse did not accept the query (the query API answers it as a 503; the writers log it and retry)',
    seen: 'HTTP answer',
  },
  AT_ERR_DETECTOR_UNAVAILABLE: {
    status: 503,
    retriable: true,
    summary: 'the detector did not answer an admin request (its admin URL or token, or it is down)',
    seen: 'HTTP answer',
  },
  AT_ERR_MESSAGE_POISON: {
    status: 422,
    retriable: false,
    summary: 'a Kafka message cannot be parsed or validated',
    seen: 'dead-letter header',
  },
  AT_ERR_MIGRATION_FAILED: {
    status: 500,
    retriable: false,
    summary: 'a ClickHouse schema migration failed or an applied one was edited',
    seen: 'exit at start',
  },
  AT_ERR_CLICKHOUSE_REJECTED: {
    status: 422,
    retriable: false,
    summary: 'ClickHouse refused a row as data; the row went to the dead-letter topic',
    seen: 'dead-letter header',
  },
  AT_ERR_RULES_INVALID: {
    status: 422,
    retriable: false,
    summary: 'a rules file failed to load',
    seen: 'rules check',
  },
  // The rules loader's problems (services/detector/rules/sequence/load.ts): each names a file,
  // an item and what is wrong; any of them makes the file fail to load (AT_ERR_RULES_INVALID).
  AT_ERR_RULES_READ: {
    status: 422,
    retriable: false,
    summary: 'a rules file cannot be read',
    seen: 'rules check',
  },
  AT_ERR_RULES_YAML: {
    status: 422,
    retriable: false,
    summary: 'a rules file is not valid YAML',
    seen: 'rules check',
  },
  AT_ERR_RULES_NOT_A_LIST: {
    status: 422,
    retriable: false,
    summary: 'a rules file is not a YAML list of items',
    seen: 'rules check',
  },
  AT_ERR_RULES_SCHEMA: {
    status: 422,
    retriable: false,
    summary: 'a rules item is not a valid list, macro, rule or header',
    seen: 'rules check',
  },
  AT_ERR_RULES_ENGINE_VERSION: {
    status: 422,
    retriable: false,
    summary: 'a rules file needs a newer rules engine',
    seen: 'rules check',
  },
  AT_ERR_RULES_DUPLICATE: {
    status: 422,
    retriable: false,
    summary: 'a rule, macro, list or step name is defined twice',
    seen: 'rules check',
  },
  AT_ERR_RULES_APPEND_UNKNOWN: {
    status: 422,
    retriable: false,
    summary: 'an append names a rule, macro or list that does not exist',
    seen: 'rules check',
  },
  AT_ERR_RULES_ABSENT: {
    status: 422,
    retriable: false,
    summary: 'an absence step is misplaced or references a missing step',
    seen: 'rules check',
  },
  AT_ERR_RULES_BAD_REF: {
    status: 422,
    retriable: false,
    summary: 'a condition refers to an unknown step',
    seen: 'rules check',
  },
  AT_ERR_RULES_UNKNOWN_LIST: {
    status: 422,
    retriable: false,
    summary: 'a condition names an unknown list',
    seen: 'rules check',
  },
  AT_ERR_RULES_UNKNOWN_MACRO: {
    status: 422,
    retriable: false,
    summary: 'a condition names an unknown macro',
    seen: 'rules check',
  },
  AT_ERR_RULES_MACRO_CYCLE: {
    status: 422,
    retriable: false,
    summary: 'macros refer to each other in a cycle',
    seen: 'rules check',
  },
  AT_ERR_NOT_FOUND: { status: 404, retriable: false, summary: 'no such resource', seen: 'HTTP answer' },
  AT_ERR_CONFLICT: {
    status: 409,
    retriable: false,
    summary: "the change conflicts with the resource's state (acknowledging a resolved alert)",
    seen: 'HTTP answer',
  },
  AT_ERR_INTERNAL: {
    status: 500,
    retriable: true,
    summary: 'an unexpected error; details are in the service log',
    seen: 'HTTP answer',
  },
  AT_ERR_DELIVERY_FAILED: {
    status: 502,
    retriable: true,
    summary: 'a destination did not accept a page',
    seen: 'log and metric',
  },
  // The MCP proxy's own refusals: JSON-RPC errors whose `data.code` is one of these (status unused).
  AT_ERR_MCP_OUT_OF_SCOPE: {
    status: 403,
    retriable: false,
    summary:
      "enforce mode: the call is outside the task's scope (JSON-RPC -32003; data.violations names each element)",
    seen: 'MCP error',
  },
  AT_ERR_MCP_NO_TASK: {
    status: 400,
    retriable: false,
    summary: 'a tools/call before any task was declared (config `task` or `_meta["agenttrail/task"]`)',
    seen: 'MCP error',
  },
  AT_ERR_MCP_TASK_INVALID: {
    status: 400,
    retriable: false,
    summary: 'the declaration in `_meta` is invalid, or declares a second task in one session',
    seen: 'MCP error',
  },
  AT_ERR_MCP_UNKNOWN_TARGET: {
    status: 400,
    retriable: false,
    summary: 'the tool, prompt or resource names no upstream server',
    seen: 'MCP error',
  },
  AT_ERR_MCP_UNRECORDED: {
    status: 503,
    retriable: true,
    summary:
      'the call was made but its action could not be recorded (the SDK refused or could not deliver it)',
    seen: 'MCP error',
  },
  AT_ERR_MCP_UPSTREAM: {
    status: 502,
    retriable: false,
    summary:
      "an upstream MCP server answered with an error of its own (relayed unchanged; counted in the proxy's agenttrail_errors_total)",
    seen: 'log and metric',
  },
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

/** The codes a client can be answered with, as a Markdown list (the services' /docs). */
export function httpErrorList(): string {
  return Object.entries(ERRORS as Record<string, ErrorSpec>)
    .filter(([, e]) => e.seen === 'HTTP answer')
    .map(([code, e]) => `- \`${code}\` (${e.status}${e.retriable ? ', retriable' : ''}): ${e.summary}`)
    .join('\n');
}

export function isRetriable(err: unknown): boolean {
  return err instanceof AgentTrailError ? err.retriable : false;
}

import type { FastifyError } from 'fastify';
import { AgentTrailError, type ErrorCode } from '../errors.js';

// What a client sees of an error: a catalogue code, a status and a message, never fastify's
// own codes (FST_ERR_*) nor anything of an unexpected error (that is logged, answered 500).

export interface WireError {
  status: number;
  code: ErrorCode;
  message: string;
  extra: Record<string, unknown>;
}

/** fastify's codes whose message we replace with one that tells the client what to do. */
const FASTIFY_MESSAGES: Record<string, (limits: WireLimits) => { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: (l) => ({
    code: 'AT_ERR_BODY_TOO_LARGE',
    message: `the body exceeds ${l.maxBodyBytes} bytes; send smaller batches`,
  }),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => ({ code: 'AT_ERR_BODY_MALFORMED', message: 'the body is empty' }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (l) => ({
    code: 'AT_ERR_UNSUPPORTED_MEDIA_TYPE',
    message: l.mediaTypes ?? 'this endpoint does not read that Content-Type',
  }),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => ({
    code: 'AT_ERR_BAD_REQUEST',
    message: 'the Content-Length header does not match the body',
  }),
};

/** Any other 4xx from fastify or Node, by status. */
const BY_STATUS: Record<number, ErrorCode> = {
  404: 'AT_ERR_NOT_FOUND',
  405: 'AT_ERR_METHOD_NOT_ALLOWED',
  408: 'AT_ERR_REQUEST_TIMEOUT',
  413: 'AT_ERR_BODY_TOO_LARGE',
  415: 'AT_ERR_UNSUPPORTED_MEDIA_TYPE',
  431: 'AT_ERR_HEADERS_TOO_LARGE',
};

export interface WireLimits {
  maxBodyBytes: number;
  /** The 415 message: which types the service reads. */
  mediaTypes?: string;
}

/** The client's view of a deliberate error, or undefined for one that must stay internal (500). */
export function wireError(err: FastifyError | AgentTrailError, limits: WireLimits): WireError | undefined {
  if (err instanceof AgentTrailError) {
    return {
      status: err.status,
      code: err.code,
      message: err.message,
      extra: (err.details as Record<string, unknown>) ?? {},
    };
  }
  const fe = err as FastifyError;
  const known = fe.code ? FASTIFY_MESSAGES[fe.code] : undefined;
  if (known) {
    const { code, message } = known(limits);
    return { status: statusOf(code), code, message, extra: {} };
  }
  if (fe.validation) return { status: 400, code: 'AT_ERR_BAD_REQUEST', message: fe.message, extra: {} };
  const status = fe.statusCode ?? 500;
  if (status >= 500 || status < 400) return undefined;
  const code = BY_STATUS[status] ?? 'AT_ERR_BAD_REQUEST';
  return { status: statusOf(code), code, message: fe.message, extra: {} };
}

function statusOf(code: ErrorCode): number {
  return new AgentTrailError(code, '').status;
}

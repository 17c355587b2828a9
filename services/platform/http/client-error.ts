import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors.js';

// Errors Node's HTTP parser raises before fastify sees a request (headers too large, a broken
// request line, a request not received in time): answered with our JSON shape and catalogue
// codes instead of fastify's default body.

interface ConnectionError extends Error {
  code?: string;
}

const BY_PARSER_CODE: Record<string, { status: number; code: ErrorCode; message: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'AT_ERR_HEADERS_TOO_LARGE',
    message: 'the request headers exceed the server limit',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'AT_ERR_REQUEST_TIMEOUT',
    message: 'the request was not received in time',
  },
};

export function clientErrorHandler(err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e = BY_PARSER_CODE[err.code ?? ''] ?? {
    status: 400,
    code: 'AT_ERR_BAD_REQUEST',
    message: 'the request is not valid HTTP/1.1',
  };
  const body = JSON.stringify({ code: e.code, message: e.message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { ErrorCode as CatalogueCode } from '../../services/platform/errors.js';

// What the proxy answers with when it, not the upstream server, fails a request: JSON-RPC errors
// with the code and message as written here (the SDK's McpError would prefix "MCP error N:" to
// the message each time it is relayed), and `data.code` from AgentTrail's vocabulary.

/** JSON-RPC server-error range (-32000…-32099); the SDK uses -32000 and -32001. */
export const OUT_OF_SCOPE_CODE = -32003;

/** The proxy's codes: entries of the shared catalogue (services/platform/errors.ts, README's table). */
export type ProxyErrorCode = Extract<CatalogueCode, `AT_ERR_MCP_${string}`>;

/** A JSON-RPC error as the SDK's Protocol sends it: `code`, `message`, `data` taken as they are. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

export const proxyError = (
  rpcCode: number,
  code: ProxyErrorCode,
  message: string,
  more: Record<string, unknown> = {},
) => new RpcError(rpcCode, `agenttrail: ${message}`, { code, ...more });

export const noTask = (message: string) =>
  proxyError(ErrorCode.InvalidRequest, 'AT_ERR_MCP_NO_TASK', message);
export const taskInvalid = (message: string) =>
  proxyError(ErrorCode.InvalidParams, 'AT_ERR_MCP_TASK_INVALID', message);
export const unknownTarget = (message: string) =>
  proxyError(ErrorCode.InvalidParams, 'AT_ERR_MCP_UNKNOWN_TARGET', message);

const SDK_PREFIX = /^MCP error -?\d+: /;

/** An upstream's error, relayed with its own code, message and data (the SDK's prefix removed). */
export function relayed(err: unknown): unknown {
  if (err instanceof McpError) return new RpcError(err.code, err.message.replace(SDK_PREFIX, ''), err.data);
  return err;
}

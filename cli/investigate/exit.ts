// Exit codes of the investigation commands (history, timeline, resources, alerts, verify,
// export), one table so every --help says the same and scripts can branch on them.

export const EXIT = {
  ok: 0,
  /** verify: the chain is broken or incomplete; elsewhere: the request failed. */
  failed: 1,
  usage: 2,
  /** The API, or ClickHouse behind it, did not answer. */
  unreachable: 3,
  notFound: 4,
  /** The key is missing, unknown, revoked or its role is too low. */
  denied: 5,
} as const;

export const EXIT_HELP = `exit status:
  0  done (verify: the chain is verified)
  1  verify: the chain is broken or incomplete; otherwise the request failed
  2  usage: a bad option or a value the API refused (400)
  3  unreachable: the API or ClickHouse did not answer (or answered 503)
  4  not found (no such task or alert for this tenant)
  5  denied: no key, an unknown or revoked key, or a role too low`;

/** A failure with the exit code it means; the message never holds a key. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The exit code of an API error answer. */
export function exitForStatus(status: number): number {
  if (status === 400) return EXIT.usage;
  if (status === 401 || status === 403) return EXIT.denied;
  if (status === 404) return EXIT.notFound;
  if (status === 503 || status === 502 || status === 504) return EXIT.unreachable;
  return EXIT.failed;
}

/** An error answer ({code, message}) as a CliError. */
export function apiError(status: number, text: string, target?: string): CliError {
  let code = `HTTP ${status}`;
  let message = text.slice(0, 500);
  try {
    const j = JSON.parse(text) as { code?: string; message?: string };
    if (j.code) code = j.code;
    if (j.message) message = j.message;
  } catch {
    // not JSON: the text as is
  }
  const from = target && (status === 503 || status === 502 || status === 504) ? ` [${target}]` : '';
  return new CliError(exitForStatus(status), `${code}: ${message}${from}`);
}

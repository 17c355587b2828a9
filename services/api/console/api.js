// @ts-check
// The API's own endpoints, with the key from sessionStorage as a Bearer header. The key is
// never put in a URL (no query parameter, no link), so it stays out of logs and history.

const KEY = 'agenttrail.console.key';

export const session = {
  /** @returns {string | null} */
  key: () => sessionStorage.getItem(KEY),
  /** @param {string} k */
  set: (k) => sessionStorage.setItem(KEY, k),
  clear: () => sessionStorage.removeItem(KEY),
};

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** @param {Record<string, string | number | undefined | null>} [params] */
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * @param {string} path e.g. /v1/alerts
 * @param {{ method?: string, body?: unknown, accept?: string }} [opts]
 * @returns {Promise<Response>}
 */
async function call(path, opts = {}) {
  const key = session.key();
  if (!key) throw new ApiError(401, 'AT_ERR_AUTH_MISSING', 'sign in with an API key');
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${key}`, accept: opts.accept ?? 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: opts.method ?? 'GET',
    headers,
    credentials: 'omit',
    cache: 'no-store',
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
  });
  if (!res.ok) {
    let code = 'AT_ERR_HTTP';
    let message = `${res.status} ${res.statusText}`;
    try {
      const j = await res.json();
      code = j.code ?? code;
      message = j.message ?? message;
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(res.status, code, message);
  }
  return res;
}

/** @param {string} path @param {{ method?: string, body?: unknown }} [opts] */
export async function api(path, opts) {
  return (await call(path, opts)).json();
}

/**
 * An export, fetched with the Bearer header and saved from a Blob (a plain link would need
 * the key in its URL).
 * @param {string} path @param {string} filename @param {string} accept
 */
export async function download(path, filename, accept) {
  const blob = await (await call(path, { accept })).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, type VerifyResult, verifySignature } from '../../services/alerter/sign.js';

// Real HTTP receivers on 127.0.0.1 for the demo, the alerter's integration tests and the latency
// benchmarks: a webhook that checks signatures the documented way (README, "Page"), and
// programmable answers (fail n times, hang, per request).

export interface Received {
  at: number;
  path: string;
  headers: IncomingHttpHeaders;
  /** Raw body exactly as received, the input to signature verification. */
  body: string;
  json: unknown;
  /** Present when the receiver has a secret. */
  signature?: VerifyResult;
  /** Status answered, or 'hang' (never answered: not a delivery). */
  answer: number | 'hang';
}

/** Decide the answer for the n-th request (1-based). */
export type Behaviour = (req: Received, n: number) => number | 'hang';

export const always =
  (status: number): Behaviour =>
  () =>
    status;
/** `times` answers of `status`, then 200. */
export const failTimes =
  (times: number, status = 500): Behaviour =>
  (_req, n) =>
    n <= times ? status : 200;
export const hang: Behaviour = () => 'hang';

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests answered 2xx: what the receiver counts as delivered. */
  delivered(): Received[];
  setBehaviour(b: Behaviour): void;
  waitFor(pred: (r: Receiver) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(
  opts: { secret?: string; behaviour?: Behaviour; port?: number; onReceive?: (r: Received) => void } = {},
): Promise<Receiver> {
  let behaviour = opts.behaviour ?? always(200);
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      const r: Received = {
        at: Date.now(),
        path: req.url ?? '/',
        headers: req.headers,
        body,
        json,
        answer: 200,
      };
      if (opts.secret !== undefined) {
        const header = req.headers[SIGNATURE_HEADER];
        r.signature = verifySignature(opts.secret, Array.isArray(header) ? header[0] : header, body);
      }
      received.push(r);
      // A bad signature is refused the way a real receiver would: 401, not retried by the sender.
      r.answer = r.signature && !r.signature.ok ? 401 : behaviour(r, received.length);
      opts.onReceive?.(r);
      if (r.answer === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      res.writeHead(r.answer, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const self: Receiver = {
    url: `http://127.0.0.1:${port}`,
    received,
    delivered: () =>
      received.filter((r) => typeof r.answer === 'number' && r.answer >= 200 && r.answer < 300),
    setBehaviour(b) {
      behaviour = b;
    },
    async waitFor(pred, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(self)) {
        if (Date.now() > deadline) throw new Error(`receiver condition not met in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return self;
}

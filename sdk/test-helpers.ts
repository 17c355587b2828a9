import type { DeclareTaskInput } from './client.js';
import type { WireEvent } from './seal.js';
import type { SendResult, Transport } from './transport.js';

/** In-memory transport for unit tests: records batches, answers from a script. */
export function memoryTransport(script: Array<SendResult | (() => Promise<SendResult>)> = []) {
  const batches: WireEvent[][] = [];
  const results: SendResult[] = [];
  const transport: Transport = {
    async send(events) {
      const next = script.shift();
      const result = typeof next === 'function' ? await next() : (next ?? { kind: 'accepted' as const });
      batches.push([...events]);
      results.push(result);
      return result;
    },
  };
  /** Events of the batches that were answered `accepted`, in order. */
  const accepted = () => batches.filter((_, i) => results[i]!.kind === 'accepted').flat();
  return { transport, batches, accepted };
}

export const AGENT = { id: 'agent-7', instance: 'pod-1' };
export const DECLARE: DeclareTaskInput = {
  intent: 'Triage open issues in acme/web and label them',
  scope: { allow: [{ tools: ['github.*'], operations: ['read', 'write'] }] },
  declared_by: { kind: 'human', id: 'alice@acme.example' },
};

/** No lone UTF-16 surrogate: written apart from sdk/text.ts so tests do not check it with itself. */
export const wellFormed = (s: string) =>
  !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

/** Every string (object keys too) of a JSON value is well-formed. */
export function wellFormedDeep(v: unknown): boolean {
  if (typeof v === 'string') return wellFormed(v);
  if (Array.isArray(v)) return v.every(wellFormedDeep);
  if (v && typeof v === 'object') {
    return Object.entries(v).every(([k, x]) => wellFormed(k) && wellFormedDeep(x));
  }
  return true;
}

import { type Attributes, type AttrValue, OtlpDecodeError, type OtlpSpan } from './model.js';
import { MAX_VALUE_DEPTH } from './protobuf.js';

// OTLP/JSON (opentelemetry-proto's JSON mapping): lowerCamelCase fields, trace and span ids as
// hex, 64-bit integers as decimal strings or numbers, enums as integers, bytes as base64. Read
// into the same model as the protobuf form; anything of the wrong shape is refused with its path.

type Json = Record<string, unknown>;

function fail(path: string, why: string): never {
  throw new OtlpDecodeError(`${path}: ${why}`);
}

function obj(v: unknown, path: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(path, 'must be an object');
  return v as Json;
}

function list(v: unknown, path: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(path, 'must be an array');
  return v;
}

function str(v: unknown, path: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') fail(path, 'must be a string');
  return v;
}

function hexId(v: unknown, path: string): string {
  const s = str(v, path).toLowerCase();
  if (s !== '' && !/^[0-9a-f]*$/.test(s))
    fail(path, 'must be hex (OTLP/JSON encodes ids as hex, not base64)');
  return s;
}

function uint64(v: unknown, path: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return BigInt(v);
  fail(path, 'must be an unsigned integer (a decimal string or a number)');
}

function anyValue(v: unknown, path: string, depth: number): AttrValue {
  if (depth > MAX_VALUE_DEPTH) fail(path, `nested deeper than ${MAX_VALUE_DEPTH}`);
  const o = obj(v, path);
  if ('stringValue' in o) return str(o.stringValue, `${path}.stringValue`);
  if ('boolValue' in o) {
    if (typeof o.boolValue !== 'boolean') fail(`${path}.boolValue`, 'must be a boolean');
    return o.boolValue;
  }
  if ('intValue' in o) {
    const n = o.intValue;
    if (typeof n === 'number' && Number.isSafeInteger(n)) return n;
    if (typeof n === 'string' && /^-?\d{1,19}$/.test(n)) {
      const b = BigInt(n);
      return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : n;
    }
    fail(`${path}.intValue`, 'must be an integer (a decimal string or a safe number)');
  }
  if ('doubleValue' in o) {
    const d = o.doubleValue;
    if (typeof d === 'number') return d;
    // The JSON mapping writes non-finite doubles as strings.
    if (d === 'NaN' || d === 'Infinity' || d === '-Infinity') return Number(d);
    fail(`${path}.doubleValue`, 'must be a number');
  }
  if ('arrayValue' in o) {
    const values = list(obj(o.arrayValue, `${path}.arrayValue`).values, `${path}.arrayValue.values`);
    return values.map((x, i) => anyValue(x, `${path}.arrayValue.values[${i}]`, depth + 1));
  }
  if ('kvlistValue' in o) {
    const out: Attributes = {};
    keyValues(obj(o.kvlistValue, `${path}.kvlistValue`).values, `${path}.kvlistValue.values`, out, depth + 1);
    return out;
  }
  if ('bytesValue' in o)
    return Buffer.from(str(o.bytesValue, `${path}.bytesValue`), 'base64').toString('hex');
  return null;
}

function keyValues(v: unknown, path: string, into: Attributes, depth: number): void {
  list(v, path).forEach((kv, i) => {
    const o = obj(kv, `${path}[${i}]`);
    into[str(o.key, `${path}[${i}].key`)] = anyValue(o.value, `${path}[${i}].value`, depth);
  });
}

function status(v: unknown, path: string): { code: number; message: string } {
  const o = obj(v, path);
  const code = o.code ?? 0;
  if (typeof code !== 'number' || !Number.isInteger(code)) fail(`${path}.code`, 'must be an integer');
  return { code, message: str(o.message, `${path}.message`) };
}

/** A parsed OTLP/JSON ExportTraceServiceRequest → its spans, each with its resource's attributes. */
export function decodeTraceJson(body: unknown): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  const top = obj(body, 'body');
  list(top.resourceSpans, 'resourceSpans').forEach((rsv, i) => {
    const rp = `resourceSpans[${i}]`;
    const rs = obj(rsv, rp);
    const resource: Attributes = {};
    keyValues(obj(rs.resource, `${rp}.resource`).attributes, `${rp}.resource.attributes`, resource, 0);
    list(rs.scopeSpans, `${rp}.scopeSpans`).forEach((ssv, j) => {
      const sp = `${rp}.scopeSpans[${j}]`;
      list(obj(ssv, sp).spans, `${sp}.spans`).forEach((s, k) => {
        const p = `${sp}.spans[${k}]`;
        const o = obj(s, p);
        const attributes: Attributes = {};
        keyValues(o.attributes, `${p}.attributes`, attributes, 0);
        spans.push({
          traceId: hexId(o.traceId, `${p}.traceId`),
          spanId: hexId(o.spanId, `${p}.spanId`),
          parentSpanId: hexId(o.parentSpanId, `${p}.parentSpanId`),
          name: str(o.name, `${p}.name`),
          startNs: uint64(o.startTimeUnixNano, `${p}.startTimeUnixNano`),
          endNs: uint64(o.endTimeUnixNano, `${p}.endTimeUnixNano`),
          attributes,
          status: status(o.status, `${p}.status`),
          resource,
        });
      });
    });
  });
  return spans;
}

/** ExportTraceServiceResponse in OTLP/JSON. */
export function traceResponseJson(rejected: number, message: string): Record<string, unknown> {
  if (rejected === 0 && message === '') return {};
  return { partialSuccess: { rejectedSpans: String(rejected), errorMessage: message } };
}

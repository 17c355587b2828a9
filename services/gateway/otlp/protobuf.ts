import { type Attributes, type AttrValue, OtlpDecodeError, type OtlpSpan } from './model.js';

// A reader of the protobuf wire format for exactly the messages of
// opentelemetry/proto/collector/trace/v1/trace_service.proto the receiver needs, and a writer of
// its response. Hand-written (no generated code, no protobuf runtime): four wire types and a dozen
// field numbers. Unknown fields are skipped, as protobuf requires, so newer exporters still work.

const VARINT = 0;
const I64 = 1;
const LEN = 2;
const I32 = 5;

// fatal: a string that is not UTF-8 is a broken exporter, not text to repair silently.
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  private pos: number;
  constructor(
    private readonly buf: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint as a number: exact up to 2^53, which covers every tag, length and enum. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OtlpDecodeError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    throw new OtlpDecodeError('varint longer than 10 bytes');
  }

  /** A varint read as int64 (two's complement), exactly. */
  int64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OtlpDecodeError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asIntN(64, result);
      shift += 7n;
    }
    throw new OtlpDecodeError('varint longer than 10 bytes');
  }

  private view(n: number): DataView {
    if (this.pos + n > this.end) throw new OtlpDecodeError('truncated fixed-width field');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n);
    this.pos += n;
    return v;
  }

  fixed64(): bigint {
    return this.view(8).getBigUint64(0, true);
  }

  double(): number {
    return this.view(8).getFloat64(0, true);
  }

  /** A reader over a length-delimited field; this reader moves past it. */
  sub(): Reader {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw new OtlpDecodeError('length-delimited field runs past its message');
    this.pos = start + len;
    return new Reader(this.buf, start, start + len);
  }

  private bytes(): Uint8Array {
    const r = this.sub();
    return this.buf.subarray(r.pos, r.end);
  }

  string(): string {
    try {
      return utf8.decode(this.bytes());
    } catch {
      throw new OtlpDecodeError('a string field is not UTF-8');
    }
  }

  hex(): string {
    return Buffer.from(this.bytes()).toString('hex');
  }

  private skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === I64) this.view(8);
    else if (wire === LEN) this.sub();
    else if (wire === I32) this.view(4);
    else throw new OtlpDecodeError(`unsupported wire type ${wire}`);
  }

  /**
   * Calls `field(number, wire)` for each field of the message; the callback reads the field's
   * value from this reader and returns true, or returns false to have it skipped.
   */
  each(field: (no: number, wire: number) => boolean): void {
    while (this.pos < this.end) {
      const tag = this.varint();
      const no = Math.floor(tag / 8);
      const wire = tag & 7;
      if (no === 0) throw new OtlpDecodeError('field number 0');
      if (!field(no, wire)) this.skip(wire);
    }
  }
}

function expect(wire: number, want: number, what: string): void {
  if (wire !== want) throw new OtlpDecodeError(`${what}: wire type ${wire}, expected ${want}`);
}

/** Deeper attribute values than this are refused (a bound on recursion, far above real use). */
export const MAX_VALUE_DEPTH = 16;

function anyValue(r: Reader, depth: number): AttrValue {
  if (depth > MAX_VALUE_DEPTH)
    throw new OtlpDecodeError(`attribute value nested deeper than ${MAX_VALUE_DEPTH}`);
  let value: AttrValue = null;
  r.each((no, wire) => {
    switch (no) {
      case 1:
        expect(wire, LEN, 'AnyValue.string_value');
        value = r.string();
        return true;
      case 2:
        expect(wire, VARINT, 'AnyValue.bool_value');
        value = r.varint() !== 0;
        return true;
      case 3: {
        expect(wire, VARINT, 'AnyValue.int_value');
        const n = r.int64();
        const safe = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
        value = safe ? Number(n) : String(n);
        return true;
      }
      case 4:
        expect(wire, I64, 'AnyValue.double_value');
        value = r.double();
        return true;
      case 5: {
        expect(wire, LEN, 'AnyValue.array_value');
        const av = r.sub();
        const arr: AttrValue[] = [];
        av.each((n, w) => {
          if (n !== 1) return false;
          expect(w, LEN, 'ArrayValue.values');
          arr.push(anyValue(av.sub(), depth + 1));
          return true;
        });
        value = arr;
        return true;
      }
      case 6: {
        expect(wire, LEN, 'AnyValue.kvlist_value');
        const obj: Attributes = {};
        keyValue(r.sub(), 1, obj, depth + 1);
        value = obj;
        return true;
      }
      case 7:
        expect(wire, LEN, 'AnyValue.bytes_value');
        value = r.hex();
        return true;
      default:
        return false;
    }
  });
  return value;
}

/** The repeated KeyValue at `fieldNo` of the message `r` reads, into `into` (a later key wins). */
function keyValue(r: Reader, fieldNo: number, into: Attributes, depth: number): void {
  r.each((no, wire) => {
    if (no !== fieldNo) return false;
    expect(wire, LEN, 'KeyValue');
    readKeyValue(r.sub(), into, depth);
    return true;
  });
}

function readKeyValue(kv: Reader, into: Attributes, depth: number): void {
  let key = '';
  let value: AttrValue = null;
  kv.each((n, w) => {
    if (n === 1) {
      expect(w, LEN, 'KeyValue.key');
      key = kv.string();
      return true;
    }
    if (n === 2) {
      expect(w, LEN, 'KeyValue.value');
      value = anyValue(kv.sub(), depth);
      return true;
    }
    return false;
  });
  into[key] = value;
}

/** Resource { repeated KeyValue attributes = 1 }. */
function resource(r: Reader): Attributes {
  const attrs: Attributes = {};
  keyValue(r, 1, attrs, 0);
  return attrs;
}

function span(r: Reader, res: Attributes): OtlpSpan {
  const s: OtlpSpan = {
    traceId: '',
    spanId: '',
    parentSpanId: '',
    name: '',
    startNs: 0n,
    endNs: 0n,
    attributes: {},
    status: { code: 0, message: '' },
    resource: res,
  };
  r.each((no, wire) => {
    switch (no) {
      case 1:
        expect(wire, LEN, 'Span.trace_id');
        s.traceId = r.hex();
        return true;
      case 2:
        expect(wire, LEN, 'Span.span_id');
        s.spanId = r.hex();
        return true;
      case 4:
        expect(wire, LEN, 'Span.parent_span_id');
        s.parentSpanId = r.hex();
        return true;
      case 5:
        expect(wire, LEN, 'Span.name');
        s.name = r.string();
        return true;
      case 7:
        expect(wire, I64, 'Span.start_time_unix_nano');
        s.startNs = r.fixed64();
        return true;
      case 8:
        expect(wire, I64, 'Span.end_time_unix_nano');
        s.endNs = r.fixed64();
        return true;
      case 9:
        expect(wire, LEN, 'Span.attributes');
        readKeyValue(r.sub(), s.attributes, 0);
        return true;
      case 15: {
        expect(wire, LEN, 'Span.status');
        const st = r.sub();
        st.each((n, w) => {
          if (n === 2) {
            expect(w, LEN, 'Status.message');
            s.status.message = st.string();
            return true;
          }
          if (n === 3) {
            expect(w, VARINT, 'Status.code');
            s.status.code = st.varint();
            return true;
          }
          return false;
        });
        return true;
      }
      default:
        return false;
    }
  });
  return s;
}

/** ExportTraceServiceRequest → its spans, each with its resource's attributes. */
export function decodeTraceRequest(body: Uint8Array): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  const top = new Reader(body, 0, body.length);
  top.each((no, wire) => {
    if (no !== 1) return false;
    expect(wire, LEN, 'ExportTraceServiceRequest.resource_spans');
    const rs = top.sub();
    let res: Attributes = {};
    const scopes: Reader[] = [];
    // resource (1) may come after scope_spans (2) on the wire: read it before building spans.
    rs.each((n, w) => {
      if (n === 1) {
        expect(w, LEN, 'ResourceSpans.resource');
        res = resource(rs.sub());
        return true;
      }
      if (n === 2) {
        expect(w, LEN, 'ResourceSpans.scope_spans');
        scopes.push(rs.sub());
        return true;
      }
      return false;
    });
    for (const ss of scopes) {
      ss.each((n, w) => {
        if (n !== 2) return false;
        expect(w, LEN, 'ScopeSpans.spans');
        spans.push(span(ss.sub(), res));
        return true;
      });
    }
    return true;
  });
  return spans;
}

// --- the response ---------------------------------------------------------------------------

/** A non-negative integer as a protobuf varint. */
export function varintBytes(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/**
 * ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1 { int64 rejected_spans = 1;
 * string error_message = 2 } }; an empty message when nothing was rejected (full success).
 */
export function encodeTraceResponse(rejected: number, message: string): Uint8Array {
  if (rejected === 0 && message === '') return new Uint8Array(0);
  const text = Buffer.from(message, 'utf8');
  const inner = [
    ...(rejected > 0 ? [0x08, ...varintBytes(rejected)] : []),
    ...(text.length > 0 ? [0x12, ...varintBytes(text.length)] : []),
  ];
  const head = Buffer.from(inner);
  const partial = Buffer.concat([head, text]);
  return Buffer.concat([Buffer.from([0x0a, ...varintBytes(partial.length)]), partial]);
}

// What the receiver reads out of an OTLP ExportTraceServiceRequest, whatever its encoding
// (protobuf or JSON): the spans with their resource attributes, attribute values as plain JS.
// Only what becomes an event is kept (no links, events, trace state or dropped counts).

/** An OTLP AnyValue: bytes as lower-case hex, int64 as a number when safe, else as its decimal text. */
export type AttrValue = string | number | boolean | AttrValue[] | { [key: string]: AttrValue } | null;

export type Attributes = Record<string, AttrValue>;

export const STATUS_UNSET = 0;
export const STATUS_OK = 1;
export const STATUS_ERROR = 2;

export interface OtlpSpan {
  /** 32 lower-case hex, or '' when the span had none (the exporter is then broken). */
  traceId: string;
  /** 16 lower-case hex. */
  spanId: string;
  parentSpanId: string;
  name: string;
  /** Nanoseconds since the epoch, exact (fixed64 does not fit a double). */
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
  status: { code: number; message: string };
  /** The attributes of the span's resource (service.name, agenttrail.*…), shared by its siblings. */
  resource: Attributes;
}

export class OtlpDecodeError extends Error {
  override name = 'OtlpDecodeError';
}

import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateEvent } from '../../schemas/index.js';
import { decodeTraceJson } from '../../services/gateway/otlp/json.js';
import { OtlpDecodeError } from '../../services/gateway/otlp/model.js';
import { decodeTraceRequest, varintBytes } from '../../services/gateway/otlp/protobuf.js';
import { spansToEvents } from '../../services/gateway/otlp/spans-to-events.js';
import { TaskSeqs } from '../../services/gateway/otlp/task-seqs.js';
import { memoryProvider, recordAgentRun } from '../../services/gateway/otlp/testing.js';
import { compileMapping, EMPTY_MAPPING } from '../../services/platform/tool-mapping.js';

// The OTLP decoders on hostile bytes: any input either decodes or is refused with an
// OtlpDecodeError (→ 400 naming the problem), never another exception (→ 500) and never a hang;
// whatever decodes converts to events that are valid or rejected with a reason.

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);

const { provider, spans } = memoryProvider();
recordAgentRun(provider, {
  taskId: 'fuzz-task',
  toolCalls: [
    { tool: 'files.read', args: { path: '/a', n: [1, 2, { x: 'é' }] }, result: 'ok' },
    { tool: 'mail.send', args: { to: 'a@b.example' }, error: 'refused' },
  ],
});
const VALID = ProtobufTraceSerializer.serializeRequest(spans())!;
const mapper = compileMapping(EMPTY_MAPPING);

function decodeOrRefuse(bytes: Uint8Array): 'decoded' | 'refused' {
  try {
    const out = decodeTraceRequest(bytes);
    const converted = spansToEvents(out, { tenant: 'acme', seqs: new TaskSeqs(), mapper });
    for (const e of converted.events) validateEvent(e); // must not throw either
    return 'decoded';
  } catch (err) {
    if (err instanceof OtlpDecodeError) return 'refused';
    throw err;
  }
}

describe('fuzz: OTLP protobuf decoding', () => {
  it('random bytes decode or are refused with OtlpDecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
        decodeOrRefuse(b);
      }),
      { numRuns: RUNS },
    );
  });

  it('a real export with bytes flipped, cut or inserted decodes or is refused', () => {
    const seen = { decoded: 0, refused: 0 };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(VALID.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.nat(VALID.length),
        (edits, cut) => {
          const b = Uint8Array.from(VALID.subarray(0, Math.max(1, cut)));
          for (const [i, v] of edits) if (i < b.length) b[i] = v;
          seen[decodeOrRefuse(b)]++;
        },
      ),
      { numRuns: RUNS },
    );
    // Both outcomes happen: the property exercises the decoder, not only its first check.
    expect(seen.decoded).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it('deep nesting is refused, not a stack overflow', () => {
    // AnyValue{ array_value: ArrayValue{ values: AnyValue{ array_value: … } } }, 300 deep (the limit is 16).
    let inner = new Uint8Array([0x0a, 0x01, 0x78]); // AnyValue{string_value: "x"}
    for (let i = 0; i < 300; i++) {
      const arr = Uint8Array.from([0x0a, ...varintBytes(inner.length), ...inner]); // ArrayValue.values
      inner = Uint8Array.from([0x2a, ...varintBytes(arr.length), ...arr]); // AnyValue.array_value
    }
    const kv = Uint8Array.from([0x0a, 0x01, 0x6b, 0x12, ...varintBytes(inner.length), ...inner]);
    const span = Uint8Array.from([0x4a, ...varintBytes(kv.length), ...kv]);
    const scope = Uint8Array.from([0x12, ...varintBytes(span.length), ...span]);
    const rs = Uint8Array.from([0x12, ...varintBytes(scope.length), ...scope]);
    const req = Uint8Array.from([0x0a, ...varintBytes(rs.length), ...rs]);
    expect(() => decodeTraceRequest(req)).toThrow(/nested deeper than/);
  });
});

describe('fuzz: OTLP/JSON decoding', () => {
  it('any JSON value decodes or is refused with OtlpDecodeError', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        try {
          decodeTraceJson(v);
        } catch (err) {
          if (!(err instanceof OtlpDecodeError)) throw err;
        }
      }),
      { numRuns: RUNS },
    );
  });
});

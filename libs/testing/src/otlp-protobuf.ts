/**
 * Just enough of a protobuf reader to decode an OTLP ExportTraceServiceRequest
 * (opentelemetry/proto/collector/trace/v1) into the same shape as OTLP/JSON, so the trace receiver
 * treats both encodings alike. Unknown fields are skipped.
 */

type Field = { no: number; wire: number; value: bigint | Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const byte = buf[pos++] ?? 0;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    switch (wire) {
      case 0:
        yield { no, wire, value: varint() };
        break;
      case 1:
        yield { no, wire, value: buf.subarray(pos, (pos += 8)) };
        break;
      case 2: {
        const len = Number(varint());
        yield { no, wire, value: buf.subarray(pos, (pos += len)) };
        break;
      }
      case 5:
        yield { no, wire, value: buf.subarray(pos, (pos += 4)) };
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${wire}`);
    }
  }
}

const bytes = (f: Field): Buffer => (Buffer.isBuffer(f.value) ? f.value : Buffer.alloc(0));
const str = (f: Field): string => bytes(f).toString('utf8');
const num = (f: Field): bigint => (typeof f.value === 'bigint' ? f.value : 0n);
const fixed64 = (f: Field): string => (Buffer.isBuffer(f.value) ? f.value.readBigUInt64LE(0).toString() : '0');

function anyValue(buf: Buffer): Record<string, unknown> {
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        return { stringValue: str(f) };
      case 2:
        return { boolValue: num(f) !== 0n };
      case 3:
        return { intValue: BigInt.asIntN(64, num(f)).toString() };
      case 4:
        return { doubleValue: bytes(f).readDoubleLE(0) };
      case 5:
        return { arrayValue: { values: [...fields(bytes(f))].filter((v) => v.no === 1).map((v) => anyValue(bytes(v))) } };
      case 6:
        return { kvlistValue: { values: [...fields(bytes(f))].filter((v) => v.no === 1).map((v) => keyValue(bytes(v))) } };
      case 7:
        return { bytesValue: bytes(f).toString('base64') };
    }
  }
  return {};
}

function keyValue(buf: Buffer): Record<string, unknown> {
  const kv: Record<string, unknown> = { key: '', value: {} };
  for (const f of fields(buf)) {
    if (f.no === 1) kv['key'] = str(f);
    else if (f.no === 2) kv['value'] = anyValue(bytes(f));
  }
  return kv;
}

function span(buf: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = { attributes: [], events: [] };
  const attributes: unknown[] = [];
  const events: unknown[] = [];
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1:
        out['traceId'] = bytes(f).toString('hex');
        break;
      case 2:
        out['spanId'] = bytes(f).toString('hex');
        break;
      case 4:
        out['parentSpanId'] = bytes(f).toString('hex');
        break;
      case 5:
        out['name'] = str(f);
        break;
      case 6:
        out['kind'] = Number(num(f));
        break;
      case 7:
        out['startTimeUnixNano'] = fixed64(f);
        break;
      case 8:
        out['endTimeUnixNano'] = fixed64(f);
        break;
      case 9:
        attributes.push(keyValue(bytes(f)));
        break;
      case 11: {
        const event: Record<string, unknown> = { attributes: [] as unknown[] };
        for (const e of fields(bytes(f))) {
          if (e.no === 1) event['timeUnixNano'] = fixed64(e);
          else if (e.no === 2) event['name'] = str(e);
          else if (e.no === 3) (event['attributes'] as unknown[]).push(keyValue(bytes(e)));
        }
        events.push(event);
        break;
      }
      case 15: {
        const status: Record<string, unknown> = { code: 0 };
        for (const s of fields(bytes(f))) {
          if (s.no === 2) status['message'] = str(s);
          else if (s.no === 3) status['code'] = Number(num(s));
        }
        out['status'] = status;
        break;
      }
    }
  }
  out['attributes'] = attributes;
  out['events'] = events;
  return out;
}

/** Decodes an OTLP protobuf ExportTraceServiceRequest into its OTLP/JSON form (ids as hex). */
export function decodeTraceRequest(buf: Buffer): { resourceSpans: unknown[] } {
  const resourceSpans: unknown[] = [];
  for (const rs of fields(buf)) {
    if (rs.no !== 1) continue;
    const resource: { attributes: unknown[] } = { attributes: [] };
    const scopeSpans: unknown[] = [];
    for (const f of fields(bytes(rs))) {
      if (f.no === 1) {
        for (const a of fields(bytes(f))) if (a.no === 1) resource.attributes.push(keyValue(bytes(a)));
      } else if (f.no === 2) {
        const scope: Record<string, unknown> = {};
        const spans: unknown[] = [];
        for (const s of fields(bytes(f))) {
          if (s.no === 1) {
            for (const sc of fields(bytes(s))) {
              if (sc.no === 1) scope['name'] = str(sc);
              else if (sc.no === 2) scope['version'] = str(sc);
            }
          } else if (s.no === 2) spans.push(span(bytes(s)));
        }
        scopeSpans.push({ scope, spans });
      }
    }
    resourceSpans.push({ resource, scopeSpans });
  }
  return { resourceSpans };
}

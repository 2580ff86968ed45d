/**
 * OTLP receivers on loopback (the protocol peer an OpenTelemetry collector is): over HTTP,
 * `POST /v1/traces` and `/v1/metrics` in protobuf; over gRPC (HTTP/2 without TLS), the
 * TraceService and MetricsService Export calls. Both decode the messages with a small
 * protobuf wire-format reader, enough of opentelemetry-proto's messages
 * (https://github.com/open-telemetry/opentelemetry-proto) to check spans and metric names.
 */
import { createServer, type Server } from 'node:http';
import { createServer as createH2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

type Field = Buffer | bigint;
type Message = Map<number, Field[]>;

/** Protobuf wire format (https://protobuf.dev/programming-guides/encoding/): fields by number. */
export function decodeMessage(buf: Buffer): Message {
  const out: Message = new Map();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++];
      if (b === undefined) throw new Error('truncated varint');
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const tag = Number(varint());
    const field = tag >> 3;
    let value: Field;
    switch (tag & 7) {
      case 0: value = varint(); break;
      case 1: value = buf.subarray(i, i + 8); i += 8; break;
      case 2: { const len = Number(varint()); value = buf.subarray(i, i + len); i += len; break; }
      case 5: value = buf.subarray(i, i + 4); i += 4; break;
      default: throw new Error(`unsupported wire type ${tag & 7}`);
    }
    const list = out.get(field) ?? [];
    list.push(value);
    out.set(field, list);
  }
  return out;
}

const bytes = (m: Message, f: number): Buffer[] => (m.get(f) ?? []).filter((x): x is Buffer => Buffer.isBuffer(x));
const str = (m: Message, f: number): string => bytes(m, f)[0]?.toString('utf8') ?? '';
const hex = (m: Message, f: number): string => bytes(m, f)[0]?.toString('hex') ?? '';
const num = (m: Message, f: number): number => Number((m.get(f) ?? []).find((x): x is bigint => typeof x === 'bigint') ?? 0n);

/** KeyValue list → plain object (string, bool, int and double values). */
function attributes(m: Message, f: number): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const kv of bytes(m, f).map(decodeMessage)) {
    const value = decodeMessage(bytes(kv, 2)[0] ?? Buffer.alloc(0));
    if (value.has(1)) out[str(kv, 1)] = str(value, 1);
    else if (value.has(2)) out[str(kv, 1)] = num(value, 2) === 1;
    else if (value.has(3)) out[str(kv, 1)] = num(value, 3);
    else if (value.has(4)) out[str(kv, 1)] = bytes(value, 4)[0]?.readDoubleLE(0) ?? 0;
  }
  return out;
}

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  events: Array<{ name: string; attributes: Record<string, string | number | boolean> }>;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  resource: Record<string, string | number | boolean>;
}

export interface OtlpReceiver {
  readonly url: string;
  readonly spans: ReceivedSpan[];
  readonly metricNames: Set<string>;
  /** Request headers of every export (gRPC metadata arrives as HTTP/2 headers). */
  readonly headers: Array<Record<string, string | string[] | undefined>>;
  close(): Promise<void>;
}

function decodeTraces(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const rs of bytes(decodeMessage(body), 1).map(decodeMessage)) {
    const resource = attributes(decodeMessage(bytes(rs, 1)[0] ?? Buffer.alloc(0)), 1);
    for (const ss of bytes(rs, 2).map(decodeMessage)) {
      for (const s of bytes(ss, 2).map(decodeMessage)) {
        const status = decodeMessage(bytes(s, 15)[0] ?? Buffer.alloc(0));
        spans.push({
          traceId: hex(s, 1),
          spanId: hex(s, 2),
          parentSpanId: hex(s, 4),
          name: str(s, 5),
          kind: num(s, 6),
          attributes: attributes(s, 9),
          events: bytes(s, 11).map(decodeMessage).map((e) => ({ name: str(e, 2), attributes: attributes(e, 3) })),
          statusCode: num(status, 3),
          resource,
        });
      }
    }
  }
  return spans;
}

function decodeMetricNames(body: Buffer): string[] {
  const names: string[] = [];
  for (const rm of bytes(decodeMessage(body), 1).map(decodeMessage)) {
    for (const sm of bytes(rm, 2).map(decodeMessage)) for (const m of bytes(sm, 2).map(decodeMessage)) names.push(str(m, 1));
  }
  return names;
}

/** Listens on loopback and hands out what a receiver collected; `drop` ends open connections. */
async function listening(server: { listen(port: number, host: string, cb: () => void): unknown; address(): AddressInfo | string | null; close(cb: () => void): unknown }, collected: Omit<OtlpReceiver, 'url' | 'close'>, drop: () => void): Promise<OtlpReceiver> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ...collected,
    close: () => new Promise<void>((r) => {
      drop();
      server.close(() => r());
    }),
  };
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metricNames = new Set<string>();
  const seen: OtlpReceiver['headers'][number][] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        if (req.headers['content-type'] !== 'application/x-protobuf') throw new Error(`content-type ${req.headers['content-type']}`);
        if (req.url === '/v1/traces') spans.push(...decodeTraces(body));
        else if (req.url === '/v1/metrics') for (const n of decodeMetricNames(body)) metricNames.add(n);
        else throw new Error(`unexpected path ${req.url}`);
        // An empty Export*ServiceResponse: everything accepted.
        res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 });
        res.end();
      } catch (err) {
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end(String(err));
      }
    });
  });
  return listening(server, { spans, metricNames, headers: seen }, () => server.closeAllConnections());
}

/**
 * OTLP over gRPC: HTTP/2 with length-prefixed messages (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md),
 * answered with an empty Export response and `grpc-status: 0`.
 */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metricNames = new Set<string>();
  const server = createH2Server();
  const seen: OtlpReceiver['headers'][number][] = [];
  server.on('stream', (stream, headers) => {
    seen.push(headers);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const frame = Buffer.concat(chunks);
      const compressed = frame[0] === 1;
      const payload = frame.subarray(5, 5 + frame.readUInt32BE(1));
      const body = compressed ? gunzipSync(payload) : payload;
      const path = String(headers[':path']);
      if (path.endsWith('TraceService/Export')) spans.push(...decodeTraces(body));
      else if (path.endsWith('MetricsService/Export')) for (const n of decodeMetricNames(body)) metricNames.add(n);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  });
  const sessions = new Set<ServerHttp2Session>();
  server.on('session', (sess) => {
    sessions.add(sess);
    sess.on('close', () => sessions.delete(sess));
  });
  return listening(server, { spans, metricNames, headers: seen }, () => {
    for (const sess of sessions) sess.destroy();
  });
}

/**
 * OpenTelemetry over OTLP/HTTP protobuf to a real receiver on loopback: a `/request` server
 * span per image request, its parent from the incoming W3C traceparent, the child spans of a
 * miss (queue, downloading_source_image, processing_image), errors as exception events,
 * AWS X-Ray shaped trace ids by default, and imgproxy's metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../src/app.js';
import { loadConfig } from '../../../src/config/index.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { startApp } from '../../helpers/app.js';
import { makePhoto } from '../../helpers/images.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { startOtlpGrpcReceiver, startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver.js';

let origin: Origin;
let receiver: OtlpReceiver;

beforeAll(async () => {
  origin = await startOrigin({ '/a.jpg': { body: await makePhoto(200, 150), contentType: 'image/jpeg' } });
  receiver = await startOtlpReceiver();
});
afterAll(async () => {
  await origin.close();
  await receiver.close();
});

describe('IMGPROXY_OPEN_TELEMETRY_ENABLE', () => {
  it('exports a trace per image request with imgproxy\'s spans, continuing the caller\'s trace', async () => {
    const px = await startApp({
      IMGPROXY_OPEN_TELEMETRY_ENABLE: 'true',
      IMGPROXY_OPEN_TELEMETRY_ENABLE_METRICS: 'true',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    try {
      const ok = await fetch(`${px.url}/unsafe/rs:fit:50:50/plain/${origin.url}/a.jpg`, { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
      expect(ok.status).toBe(200);
      await ok.arrayBuffer();
      expect((await fetch(`${px.url}/unsafe/no_such_option:1/plain/${origin.url}/a.jpg`)).status).toBe(404);
      expect((await fetch(`${px.url}/health`)).status).toBe(200);
    } finally {
      // Stopping exports what the batch processor and the metric reader hold.
      await px.stop();
    }
    const requests = receiver.spans.filter((s) => s.name === '/request');
    expect(requests).toHaveLength(2);
    const root = requests.find((s) => s.traceId === traceId);
    expect(root).toMatchObject({ parentSpanId: parentId, kind: 2 });
    expect(root?.attributes['http.status_code']).toBe(200);
    expect(root?.attributes['http.method']).toBe('GET');
    expect(root?.resource['service.name']).toBe('imgproxy');
    const children = receiver.spans.filter((s) => s.parentSpanId === root?.spanId);
    expect(children.map((s) => s.name).sort()).toEqual(['downloading_source_image', 'processing_image', 'queue']);
    for (const c of children) expect(c).toMatchObject({ traceId, kind: 1 });

    const failed = requests.find((s) => s.traceId !== traceId);
    expect(failed?.attributes['http.status_code']).toBe(404);
    expect(failed?.events[0]?.name).toBe('exception');
    expect(failed?.events[0]?.attributes['exception.type']).toBe('path_parsing_error (ProxyError)');
    // X-Ray ids (imgproxy's default generator): the first 4 bytes are the start time in seconds.
    const started = parseInt(failed?.traceId.slice(0, 8) ?? '0', 16);
    expect(Math.abs(started - Date.now() / 1000)).toBeLessThan(120);

    for (const name of ['requests_total', 'status_codes_total', 'errors_total', 'request_duration_seconds', 'request_span_duration_seconds', 'workers', 'requests_in_progress', 'vips_memory_bytes']) {
      expect(receiver.metricNames.has(name), name).toBe(true);
    }
  }, 60_000);

  it('exports over gRPC (OTLP\'s default protocol, as imgproxy\'s), with headers as gRPC metadata', async () => {
    const grpc = await startOtlpGrpcReceiver();
    const px = await startApp({
      IMGPROXY_OPEN_TELEMETRY_ENABLE: 'true',
      IMGPROXY_OPEN_TELEMETRY_ENABLE_METRICS: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: grpc.url,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=a',
      IMGPROXY_OPEN_TELEMETRY_TRACE_ID_GENERATOR: 'random',
      OTEL_SERVICE_NAME: 'thumbs',
    });
    try {
      const res = await fetch(`${px.url}/unsafe/rs:fit:30:30/plain/${origin.url}/a.jpg`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    } finally {
      await px.stop();
      await grpc.close();
    }
    const root = grpc.spans.find((s) => s.name === '/request');
    expect(root?.resource['service.name']).toBe('thumbs');
    expect(grpc.spans.filter((s) => s.parentSpanId === root?.spanId)).toHaveLength(3);
    expect(grpc.metricNames.has('requests_total')).toBe(true);
    expect(grpc.headers.every((h) => h['x-tenant'] === 'a')).toBe(true);
  }, 60_000);

  it('a propagator whose optional package is not installed stops startup naming the package', async () => {
    const config = loadConfig({ IMGPROXY_OPEN_TELEMETRY_ENABLE: 'true', OTEL_PROPAGATORS: 'tracecontext,b3', IMGPROXY_CACHE_USE: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    await expect(createApp(config, { logger: silentLogger(), defaultMetrics: false })).rejects.toThrow(/^OTEL_PROPAGATORS=b3: needs the optional package @opentelemetry\/propagator-b3.*npm install @opentelemetry\/propagator-b3@\^2/);
  });
});

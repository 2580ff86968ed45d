/**
 * OpenTelemetry, as imgproxy sends it (https://github.com/imgproxy/imgproxy/blob/master/monitoring/otel/otel.go,
 * https://docs.imgproxy.net/monitoring/open_telemetry): a server span `/request` per image
 * request, its parent taken from the incoming headers (OTEL_PROPAGATORS), with internal
 * child spans `queue`, `downloading_source_image` and `processing_image`; errors as
 * `exception` events; with IMGPROXY_OPEN_TELEMETRY_ENABLE_METRICS, imgproxy's metrics over
 * OTLP too. Exported over OTLP gRPC or HTTP/protobuf (OTEL_EXPORTER_OTLP_PROTOCOL).
 *
 * The official @opentelemetry packages are optional peer dependencies: this module is
 * imported only when IMGPROXY_OPEN_TELEMETRY_ENABLE is on, and a missing package stops
 * startup naming what to install. No global provider or context manager is registered: the
 * request's span travels through ./tracing.ts, so pixproxy embedded in an application that
 * has its own OpenTelemetry setup does not disturb it.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import sharp from 'sharp';
import type * as Api from '@opentelemetry/api';
import type * as Core from '@opentelemetry/core';
import type * as Resources from '@opentelemetry/resources';
import type * as TraceBase from '@opentelemetry/sdk-trace-base';
import type * as SdkMetrics from '@opentelemetry/sdk-metrics';
import type * as ProtoTraces from '@opentelemetry/exporter-trace-otlp-proto';
import type * as GrpcTraces from '@opentelemetry/exporter-trace-otlp-grpc';
import type * as ProtoMetrics from '@opentelemetry/exporter-metrics-otlp-proto';
import type * as GrpcMetrics from '@opentelemetry/exporter-metrics-otlp-grpc';
import type { Config } from '../config/index.js';
import { loadOptional } from '../optional-package.js';
import type { Logger } from './logger.js';
import { IMGPROXY_SPAN_LABEL, type Metrics } from './metrics.js';
import type { RequestSpan, Tracing } from './tracing.js';

type OtelConfig = Config['observability'];

/** Imports an optional package, or stops startup naming it and the version range we test with. */
function load<T>(pkg: string, importer: () => Promise<T>, variable = 'IMGPROXY_OPEN_TELEMETRY_ENABLE'): Promise<T> {
  return loadOptional(pkg, variable, importer);
}

/** AWS X-Ray's trace id shape (imgproxy's default generator): 4 bytes of epoch seconds, 12 random. */
const xrayIds = {
  generateTraceId: (): string => Math.floor(Date.now() / 1000).toString(16).padStart(8, '0') + randomBytes(12).toString('hex'),
  generateSpanId: (): string => randomBytes(8).toString('hex'),
};

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

const pem = (s: string): Buffer | undefined => (s === '' ? undefined : Buffer.from(s.replace(/\\n/g, '\n')));

/** OTLP/HTTP wants the signal's path; OTEL_EXPORTER_OTLP_ENDPOINT is the base (OTLP spec, "Endpoint URLs for OTLP/HTTP"). */
function endpoint(c: OtelConfig, signal: 'traces' | 'metrics', protocol: 'grpc' | 'http/protobuf'): string {
  const specific = signal === 'traces' ? c.otelTracesEndpoint : c.otelMetricsEndpoint;
  if (specific) return specific;
  if (protocol === 'grpc') return c.otelEndpoint || 'http://localhost:4317';
  return `${(c.otelEndpoint || 'http://localhost:4318').replace(/\/+$/, '')}/v1/${signal}`;
}

interface GrpcJs {
  Metadata: new () => { set(k: string, v: string): void };
  credentials: { createSsl(ca?: Buffer, key?: Buffer, cert?: Buffer): unknown; createInsecure(): unknown };
}

async function exporterOptions(c: OtelConfig, protocol: 'grpc' | 'http/protobuf', url: string): Promise<Record<string, unknown>> {
  const ca = pem(c.otelServerCert);
  const cert = pem(c.otelClientCert);
  const key = pem(c.otelClientKey);
  const base: Record<string, unknown> = { url, timeoutMillis: c.otelTimeout };
  // OTEL_EXPORTER_OTLP_HEADERS values are URL-encoded (OpenTelemetry's exporter specification).
  const headers = Object.fromEntries(Object.entries(c.otelHeaders).map(([k, v]) => [k, safeDecode(v)]));
  if (protocol === 'http/protobuf') {
    return { ...base, headers, ...(ca ? { httpAgentOptions: { ca, ...(cert && key ? { cert, key } : {}) } } : {}) };
  }
  const needsGrpc = ca !== undefined || Object.keys(headers).length > 0;
  if (!needsGrpc) return base;
  // Metadata and TLS credentials are @grpc/grpc-js objects, which the gRPC exporter depends on.
  const grpc = await load('@grpc/grpc-js', () => import('@grpc/grpc-js' as string) as Promise<GrpcJs>);
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
  return { ...base, metadata, ...(ca ? { credentials: grpc.credentials.createSsl(ca, cert && key ? key : undefined, cert && key ? cert : undefined) } : {}) };
}

interface TextMapPropagatorModule {
  [name: string]: unknown;
}

async function propagator(c: OtelConfig, core: typeof Core): Promise<Api.TextMapPropagator> {
  const list: Api.TextMapPropagator[] = [];
  for (const p of c.otelPropagators) {
    if (p === 'tracecontext') list.push(new core.W3CTraceContextPropagator());
    else if (p === 'baggage') list.push(new core.W3CBaggagePropagator());
    else {
      const [pkg, make] = {
        b3: ['@opentelemetry/propagator-b3', (m: TextMapPropagatorModule) => new (m.B3Propagator as new () => Api.TextMapPropagator)()],
        b3multi: ['@opentelemetry/propagator-b3', (m: TextMapPropagatorModule) => new (m.B3Propagator as new (o: object) => Api.TextMapPropagator)({ injectEncoding: 1 })],
        jaeger: ['@opentelemetry/propagator-jaeger', (m: TextMapPropagatorModule) => new (m.JaegerPropagator as new () => Api.TextMapPropagator)()],
        xray: ['@opentelemetry/propagator-aws-xray', (m: TextMapPropagatorModule) => new (m.AWSXRayPropagator as new () => Api.TextMapPropagator)()],
        ottrace: ['@opentelemetry/propagator-ot-trace', (m: TextMapPropagatorModule) => new (m.OTTracePropagator as new () => Api.TextMapPropagator)()],
      }[p] as [string, (m: TextMapPropagatorModule) => Api.TextMapPropagator];
      list.push(make(await load(pkg, () => import(pkg) as Promise<TextMapPropagatorModule>, `OTEL_PROPAGATORS=${p}`)));
    }
  }
  return list.length === 1 && list[0] ? list[0] : new core.CompositePropagator({ propagators: list });
}

const headerGetter: Api.TextMapGetter<IncomingMessage['headers']> = {
  keys: (h) => Object.keys(h),
  get: (h, k) => h[k.toLowerCase()],
};

/** Starts OpenTelemetry (imports its packages); rejects with a ConfigError when one is missing. */
export async function startOtel(c: OtelConfig, metrics: Metrics, logger: Logger): Promise<Tracing> {
  const api = await load('@opentelemetry/api', () => import('@opentelemetry/api'));
  const core = await load('@opentelemetry/core', () => import('@opentelemetry/core'));
  const resources: typeof Resources = await load('@opentelemetry/resources', () => import('@opentelemetry/resources'));
  const traceBase: typeof TraceBase = await load('@opentelemetry/sdk-trace-base', () => import('@opentelemetry/sdk-trace-base'));
  const log = logger.child({ module: 'otel' });
  // Export failures are the collector's problem, not the request's: a warning, as imgproxy logs them.
  api.diag.setLogger({ error: (m) => log.warn({ source: 'opentelemetry' }, m), warn: (m) => log.warn({ source: 'opentelemetry' }, m), info: () => undefined, debug: () => undefined, verbose: () => undefined }, api.DiagLogLevel.WARN);

  const resource = resources.resourceFromAttributes({ 'service.name': c.otelServiceName, 'service.version': '0.1.0' });
  const tracesProtocol = c.otelTracesProtocol || c.otelProtocol;
  const traceUrl = endpoint(c, 'traces', tracesProtocol);
  const traceExporter: TraceBase.SpanExporter = tracesProtocol === 'grpc'
    ? new (await load<typeof GrpcTraces>('@opentelemetry/exporter-trace-otlp-grpc', () => import('@opentelemetry/exporter-trace-otlp-grpc'))).OTLPTraceExporter(await exporterOptions(c, 'grpc', traceUrl))
    : new (await load<typeof ProtoTraces>('@opentelemetry/exporter-trace-otlp-proto', () => import('@opentelemetry/exporter-trace-otlp-proto'))).OTLPTraceExporter(await exporterOptions(c, 'http/protobuf', traceUrl));
  const provider = new traceBase.BasicTracerProvider({
    resource,
    spanProcessors: [new traceBase.BatchSpanProcessor(traceExporter)],
    ...(c.otelTraceIdGenerator === 'xray' ? { idGenerator: xrayIds } : {}),
  });
  const tracer = provider.getTracer('imgproxy');
  const prop = c.otelPropagators.length > 0 ? await propagator(c, core) : null;

  let meterProvider: SdkMetrics.MeterProvider | null = null;
  if (c.otelEnableMetrics) {
    const sdkMetrics: typeof SdkMetrics = await load('@opentelemetry/sdk-metrics', () => import('@opentelemetry/sdk-metrics'));
    const metricsProtocol = c.otelMetricsProtocol || c.otelProtocol;
    const metricsUrl = endpoint(c, 'metrics', metricsProtocol);
    const exporter: SdkMetrics.PushMetricExporter = metricsProtocol === 'grpc'
      ? new (await load<typeof GrpcMetrics>('@opentelemetry/exporter-metrics-otlp-grpc', () => import('@opentelemetry/exporter-metrics-otlp-grpc'))).OTLPMetricExporter(await exporterOptions(c, 'grpc', metricsUrl))
      : new (await load<typeof ProtoMetrics>('@opentelemetry/exporter-metrics-otlp-proto', () => import('@opentelemetry/exporter-metrics-otlp-proto'))).OTLPMetricExporter(await exporterOptions(c, 'http/protobuf', metricsUrl));
    meterProvider = new sdkMetrics.MeterProvider({ resource, readers: [new sdkMetrics.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: c.otelMetricsInterval, exportTimeoutMillis: Math.min(c.otelTimeout, c.otelMetricsInterval) })] });
    addMetrics(meterProvider.getMeter('imgproxy'), metrics);
  }

  return {
    startRequest(req, path) {
      const parent = prop ? prop.extract(api.ROOT_CONTEXT, req.headers, headerGetter) : api.ROOT_CONTEXT;
      const host = req.headers.host ?? 'imgproxy';
      const span = tracer.startSpan('/request', {
        kind: api.SpanKind.SERVER,
        attributes: {
          'http.method': req.method ?? 'GET',
          'http.scheme': 'http',
          'net.host.name': host.replace(/:\d+$/, ''),
          'http.target': path,
          'http.url': req.url ?? path,
          ...(req.headers['user-agent'] ? { 'http.user_agent': req.headers['user-agent'] } : {}),
        },
      }, parent);
      const ctx = api.trace.setSpan(parent, span);
      const handle: RequestSpan = {
        child(name) {
          const s = tracer.startSpan(IMGPROXY_SPAN_LABEL[name], { kind: api.SpanKind.INTERNAL }, ctx);
          return () => s.end();
        },
        error(category, message) {
          span.setStatus({ code: api.SpanStatusCode.ERROR, message });
          span.addEvent('exception', { 'exception.type': `${category}_error (ProxyError)`, 'exception.message': message });
        },
        end(status) {
          span.setAttribute('http.status_code', status);
          // semconv httpconv.ServerStatus: only a 5xx marks a server span as failed.
          if (status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
          span.end();
        },
      };
      return handle;
    },
    async shutdown() {
      await Promise.all([provider.shutdown(), meterProvider?.shutdown()]);
    },
  };
}

/** imgproxy's OTLP instruments (otel.go, addDefaultMetrics), fed by the same observations as /metrics. */
function addMetrics(meter: Api.Meter, metrics: Metrics): void {
  const requests = meter.createCounter('requests_total', { unit: '1', description: 'A counter of the total number of HTTP requests imgproxy processed.' });
  const statuses = meter.createCounter('status_codes_total', { unit: '1', description: 'A counter of the response status codes.' });
  const errors = meter.createCounter('errors_total', { unit: '1', description: 'A counter of the occurred errors separated by type.' });
  const duration = meter.createHistogram('request_duration_seconds', { unit: 's', description: 'A histogram of the response latency.' });
  const spans = meter.createHistogram('request_span_duration_seconds', { unit: 's', description: 'A histogram of the request spans duration separated by span name.' });
  const statusAttrs = new Map<number, Api.Attributes>();
  metrics.addListener({
    requestStarted: () => requests.add(1),
    requestFinished(status, seconds) {
      let attrs = statusAttrs.get(status);
      if (!attrs) statusAttrs.set(status, (attrs = { status: String(status) }));
      statuses.add(1, attrs);
      duration.record(seconds);
    },
    error: (category) => errors.add(1, { type: category }),
    span: (name, seconds) => spans.record(seconds, { span: IMGPROXY_SPAN_LABEL[name] }),
  });
  const gauges: Array<[string, string, string, () => number]> = [
    ['workers', '1', 'A gauge of the number of running workers.', () => metrics.workers],
    ['requests_in_progress', '1', 'A gauge of the number of requests currently being in progress.', () => metrics.requestsInProgress],
    ['images_in_progress', '1', 'A gauge of the number of images currently being in progress.', () => metrics.imagesInProgress.value],
    ['workers_utilization', '%', 'A gauge of the workers utilization in percents.', () => metrics.workersUtilization],
    ['vips_memory_bytes', 'By', 'A gauge of the vips tracked memory usage in bytes.', () => sharp.cache().memory.current * 1024 * 1024],
    ['vips_max_memory_bytes', 'By', 'A gauge of the max vips tracked memory usage in bytes.', () => sharp.cache().memory.high * 1024 * 1024],
    ['process_resident_memory_bytes', 'By', 'Resident memory size in bytes.', () => process.memoryUsage.rss()],
  ];
  for (const [name, unit, description, read] of gauges) {
    meter.createObservableGauge(name, { unit, description }).addCallback((o) => o.observe(read()));
  }
}

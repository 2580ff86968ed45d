/**
 * The schema's `observability` section: logs, metrics, traces and health checks
 * (docs/observability.md): log format and syslog, Prometheus namespaces, OpenTelemetry's
 * exporter, its OTEL_* variables and propagators.
 */
import { bool, custom, int, map, oneOf, str, type SchemaSection } from '../fields.js';

const LOG_FORMATS = ['pretty', 'structured', 'json', 'gcp'] as const;
type LogFormatSetting = (typeof LOG_FORMATS)[number] | 'auto';
const SYSLOG_LEVELS = ['debug', 'info', 'warn', 'error', 'crit'] as const;
type SyslogLevel = (typeof SYSLOG_LEVELS)[number];
type OtlpProtocol = 'grpc' | 'http/protobuf';
/** imgproxy's protocol names (monitoring/otel/config.go): `http` and `https` are http/protobuf. */
function parseOtlpProtocol(raw: string): OtlpProtocol | undefined {
  const v = raw.trim().toLowerCase();
  return v === 'grpc' ? 'grpc' : v === 'http/protobuf' || v === 'http' || v === 'https' ? 'http/protobuf' : undefined;
}
const PROPAGATORS = ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'xray', 'ottrace', 'none'] as const;
type Propagator = Exclude<(typeof PROPAGATORS)[number], 'none'>;

export const observability = {
  logFormat: custom(['IMGPROXY_LOG_FORMAT'], 'auto' as LogFormatSetting, 'one of pretty, structured, json, gcp', (raw) => {
    const v = raw.trim().toLowerCase();
    return (LOG_FORMATS as readonly string[]).includes(v) ? (v as LogFormatSetting) : undefined;
  }).describe('Log line format, imgproxy\'s four: `json`, `gcp` (JSON with `severity` and `message`), `structured` (key="value"), `pretty` (coloured). Unset = `pretty` on a terminal, else `json` (imgproxy: `structured`).'),
  syslogEnable: bool(['IMGPROXY_SYSLOG_ENABLE'], false)
    .describe('Also sends every log line to a syslog daemon (IMGPROXY_SYSLOG_NETWORK and _ADDRESS; unset = the local daemon\'s stream socket, /dev/log).'),
  syslogLevel: custom(['IMGPROXY_SYSLOG_LEVEL'], '' as '' | SyslogLevel, 'one of debug, info, warn, error, crit', (raw) => {
    const v = raw.trim().toLowerCase();
    return (SYSLOG_LEVELS as readonly string[]).includes(v) ? (v as SyslogLevel) : undefined;
  }).describe('Lowest level sent to syslog; unset = IMGPROXY_LOG_LEVEL.'),
  syslogNetwork: str(['IMGPROXY_SYSLOG_NETWORK'])
    .describe('Network of the syslog daemon: `udp`, `udp4`, `udp6`, `tcp`, `tcp4`, `tcp6` or `unix` (a stream socket); unset = the local daemon. `unixgram` is refused: Node.js has no Unix datagram sockets.'),
  syslogAddress: str(['IMGPROXY_SYSLOG_ADDRESS'])
    .describe('`host:port` (udp, tcp) or socket path (unix) of the syslog daemon; required with IMGPROXY_SYSLOG_NETWORK.'),
  syslogTag: str(['IMGPROXY_SYSLOG_TAG'], 'imgproxy')
    .describe('Tag of the syslog messages (imgproxy\'s default, so existing filters match).'),
  serverName: str(['IMGPROXY_SERVER_NAME'], 'imgproxy')
    .describe('The `Server` header of every response (imgproxy Pro\'s variable; imgproxy sends `imgproxy`).'),
  healthCheckMessage: str(['IMGPROXY_HEALTH_CHECK_MESSAGE'], 'imgproxy is running')
    .describe('Body of the imgproxy health check answer (imgproxy Pro\'s variable).'),
  metricsOnMainPort: bool(['PIXPROXY_METRICS_ON_MAIN_PORT'], false)
    .describe('Also serves `/metrics` on the main server (imgproxy serves them only on IMGPROXY_PROMETHEUS_BIND; metrics may reveal traffic, keep them off public ports).'),
  ppPrometheusNamespace: str(['PP_PROMETHEUS_NAMESPACE'])
    .describe('Prefix of PreviewProxy\'s own series (`<namespace>_`); when it differs from IMGPROXY_PROMETHEUS_NAMESPACE, the series both share are served under it too, with PreviewProxy\'s label values.'),
  otelEnable: bool(['IMGPROXY_OPEN_TELEMETRY_ENABLE'], false)
    .describe('Sends a trace per image request (spans queue, downloading_source_image, processing_image) over OTLP; needs the optional @opentelemetry packages.'),
  otelEnableMetrics: bool(['IMGPROXY_OPEN_TELEMETRY_ENABLE_METRICS'], false)
    .describe('With IMGPROXY_OPEN_TELEMETRY_ENABLE, also sends imgproxy\'s metrics over OTLP every OTEL_METRIC_EXPORT_INTERVAL.'),
  otelServerCert: str(['IMGPROXY_OPEN_TELEMETRY_SERVER_CERT'])
    .describe('PEM certificate (`\\n` for line breaks) the OTLP collector\'s TLS certificate is checked against (http/protobuf only).'),
  otelClientCert: str(['IMGPROXY_OPEN_TELEMETRY_CLIENT_CERT'])
    .describe('PEM client certificate for mTLS to the collector, with IMGPROXY_OPEN_TELEMETRY_CLIENT_KEY (http/protobuf only).'),
  otelClientKey: str(['IMGPROXY_OPEN_TELEMETRY_CLIENT_KEY'])
    .describe('PEM key of IMGPROXY_OPEN_TELEMETRY_CLIENT_CERT.'),
  otelTraceIdGenerator: oneOf(['IMGPROXY_OPEN_TELEMETRY_TRACE_ID_GENERATOR'], ['xray', 'random'], 'xray')
    .describe('Trace ids: `xray` (AWS X-Ray compatible: the first 4 bytes are the start time) or `random`.'),
  otelEndpoint: str(['OTEL_EXPORTER_OTLP_ENDPOINT'])
    .describe('OTLP collector URL (`http://` or `https://`); unset = `http://localhost:4317` for grpc, `http://localhost:4318` for http/protobuf.'),
  otelTracesEndpoint: str(['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'])
    .describe('Collector URL for traces only (for http/protobuf, the full URL with its path); unset = from OTEL_EXPORTER_OTLP_ENDPOINT.'),
  otelMetricsEndpoint: str(['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'])
    .describe('Collector URL for metrics only (for http/protobuf, the full URL with its path); unset = from OTEL_EXPORTER_OTLP_ENDPOINT.'),
  otelProtocol: custom(['OTEL_EXPORTER_OTLP_PROTOCOL'], 'grpc' as OtlpProtocol, 'one of grpc, http/protobuf, http, https', parseOtlpProtocol)
    .describe('OTLP transport: `grpc` or `http/protobuf` (`http` and `https` mean http/protobuf, as in imgproxy).'),
  otelTracesProtocol: custom(['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'], '' as OtlpProtocol | '', 'one of grpc, http/protobuf, http, https', parseOtlpProtocol)
    .describe('OTLP transport of traces; unset = OTEL_EXPORTER_OTLP_PROTOCOL.'),
  otelMetricsProtocol: custom(['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL'], '' as OtlpProtocol | '', 'one of grpc, http/protobuf, http, https', parseOtlpProtocol)
    .describe('OTLP transport of metrics; unset = OTEL_EXPORTER_OTLP_PROTOCOL.'),
  otelHeaders: map(['OTEL_EXPORTER_OTLP_HEADERS'], {}, 'key=value pairs separated by commas', (v) => v)
    .describe('Headers sent with every OTLP export (`api-key=secret,x-tenant=a`).'),
  otelTimeout: int(['OTEL_EXPORTER_OTLP_TIMEOUT'], 10_000, { min: 1 })
    .describe('Milliseconds one OTLP export may take.'),
  otelServiceName: str(['OTEL_SERVICE_NAME'], 'imgproxy')
    .describe('`service.name` of the traces and metrics (imgproxy\'s default, so existing queries match).'),
  otelPropagators: custom(['OTEL_PROPAGATORS'], ['tracecontext', 'baggage'] as readonly Propagator[], 'a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none', (raw) => {
    const items = raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
    return items.every((i) => (PROPAGATORS as readonly string[]).includes(i)) ? (items.filter((i) => i !== 'none') as Propagator[]) : undefined;
  }).describe('How the incoming trace context is read (W3C `traceparent` by default); b3/b3multi, jaeger, xray and ottrace need their @opentelemetry/propagator-* package.'),
  otelMetricsInterval: int(['OTEL_METRIC_EXPORT_INTERVAL'], 10_000, { min: 100 })
    .describe('Milliseconds between two OTLP metric exports (imgproxy: 10 s).'),
} as const satisfies SchemaSection;

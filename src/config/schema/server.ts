/**
 * The schema's `server` section: where the image server listens, its timeouts and
 * connection bounds, worker and queue sizes, the routes' prefix and dialect, logs' level.
 */
import { NETWORKS, type Network } from '../listen.js';
import { bool, custom, int, oneOf, optInt, str, type SchemaSection } from '../fields.js';

export const server = {
  bind: str(['IMGPROXY_BIND'], ':8080')
    .describe('Address the image server listens on: `host:port`, `:port` for every interface, `[v6]:port` (the port is required); with IMGPROXY_NETWORK=unix, the socket path.'),
  network: custom(['IMGPROXY_NETWORK'], 'tcp' as Network, 'one of tcp, tcp4, tcp6, unix (not unixpacket: Node cannot listen on SOCK_SEQPACKET)', (raw) => {
    const v = raw.trim().toLowerCase();
    return (NETWORKS as readonly string[]).includes(v) ? (v as Network) : undefined;
  }).describe('Network of IMGPROXY_BIND: `tcp` (IPv4 and IPv6), `tcp4`, `tcp6` (IPv6 only) or `unix` (a Unix socket).'),
  port: optInt(['PP_PORT', 'PORT'], { min: 0, max: 65535 })
    .describe('Port to listen on (every interface) when IMGPROXY_BIND is unset; IMGPROXY_BIND wins when both are set, as in imgproxy.'),
  pathPrefix: custom(['IMGPROXY_PATH_PREFIX'], '', 'a path starting with / (e.g. /img)', (raw) => {
    const p = raw.trim().replace(/\/+$/, '');
    return p === '' || p.startsWith('/') ? p : undefined;
  }).describe('Prefix in front of every route (e.g. `/img`); paths outside it answer 404.'),
  maxClients: int(['IMGPROXY_MAX_CLIENTS'], 2048, { min: 0 })
    .describe('Most client connections served at once; further ones wait (up to 511 of them, the listen backlog) until one closes, as in imgproxy. 0 = unlimited.'),
  workers: int(['IMGPROXY_WORKERS', 'IMGPROXY_CONCURRENCY'], 0, { min: 0 })
    .describe('Images processed at once; 0 = 2 × CPU cores. Cache hits do not wait for a worker.'),
  requestsQueueSize: int(['IMGPROXY_REQUESTS_QUEUE_SIZE'], 0, { min: 0 })
    .describe('Misses admitted beyond IMGPROXY_WORKERS (downloading, or waiting for a download slot or a worker); one more is answered 429 at once. 0 = unlimited.'),
  maxDownloads: int(['PIXPROXY_MAX_DOWNLOADS'], 64, { min: 0 })
    .describe('Source downloads at once. A download does not hold a worker (the worker is taken once the source is in memory), so slow origins do not block processing. 0 = unlimited.'),
  timeout: int(['IMGPROXY_TIMEOUT'], 10, { min: 1 })
    .describe('Seconds an image request may take on a miss (queue, download, processing) before a 503.'),
  keepAliveTimeout: int(['IMGPROXY_KEEP_ALIVE_TIMEOUT'], 10, { min: 0 })
    .describe('Seconds an idle client keep-alive connection stays open; 0 turns keep-alive off (each response closes its connection), as in imgproxy.'),
  writeResponseTimeout: int(['IMGPROXY_WRITE_RESPONSE_TIMEOUT'], 10, { min: 1 })
    .describe('Seconds a response may take to write once its headers are sent; a client reading slower is disconnected.'),
  readRequestTimeout: int(['IMGPROXY_READ_REQUEST_TIMEOUT'], 10, { min: 1 })
    .describe('Seconds a client has to send the request headers; a whole request may take this plus IMGPROXY_TIMEOUT.'),
  gracefulStopTimeout: int(['IMGPROXY_GRACEFUL_STOP_TIMEOUT'], 20, { min: 0 })
    .describe('Seconds shutdown waits for responses in flight before closing the remaining connections.'),
  drainSecs: int(['PIXPROXY_DRAIN_SECS'], 0, { min: 0, max: 3600 })
    .describe('Seconds between SIGTERM and closing the listener: the readiness path answers 503 while requests are still served, so a balancer that polls it stops sending traffic first (docs/deploy.md). 0 = close at once, as imgproxy does.'),
  readinessPath: str(['PIXPROXY_READINESS_PATH'], '/ready')
    .describe('Path answering 200 while the instance takes traffic and 503 from SIGTERM on (liveness stays `/health`).'),
  allowOrigin: str(['IMGPROXY_ALLOW_ORIGIN'])
    .describe('`Access-Control-Allow-Origin` sent on every response (with `Access-Control-Allow-Methods: GET, OPTIONS`); empty = no CORS headers.'),
  secret: str(['IMGPROXY_SECRET'])
    .describe('When set, image and `/info` requests need `Authorization: Bearer <secret>` (403 otherwise).'),
  healthCheckPath: str(['IMGPROXY_HEALTH_CHECK_PATH'])
    .describe('A path answering the health check in addition to `/health`.'),
  logLevel: oneOf(['IMGPROXY_LOG_LEVEL', 'PP_LOG_LEVEL'], ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info')
    .describe('Lowest level written to the JSON log (stdout).'),
  prometheusBind: str(['IMGPROXY_PROMETHEUS_BIND', 'PP_PROMETHEUS_BIND'])
    .describe('`host:port` or `:port` of a separate listener for Prometheus metrics (the port is required); empty = `/metrics` on the main server.'),
  prometheusNamespace: str(['IMGPROXY_PROMETHEUS_NAMESPACE'])
    .describe('Prefix (`<namespace>_`) of every metric name.'),
  enableDebugHeaders: bool(['IMGPROXY_ENABLE_DEBUG_HEADERS'], false)
    .describe('Adds `X-Origin-Width`, `X-Origin-Height`, `X-Origin-Content-Length`, `X-Result-Width` and `X-Result-Height` to image responses.'),
  developmentErrorsMode: bool(['IMGPROXY_DEVELOPMENT_ERRORS_MODE'], false)
    .describe('Error bodies carry the internal detail after the public message (development only: it shows internals).'),
  processes: int(['PIXPROXY_PROCESSES'], 1, { min: 1, max: 256 })
    .describe('Node cluster processes sharing the listen socket and the L2 cache; 1 = a single process.'),
  malloc: oneOf(['PIXPROXY_MALLOC'], ['glibc', 'jemalloc'], 'glibc')
    .describe('Allocator `pixproxy serve` (and `npm start`) runs the server with: `jemalloc` preloads libjemalloc.so.2 when it is installed (Debian: libjemalloc2), with a warning otherwise. Either way glibc gets `MALLOC_ARENA_MAX=2` unless it is set.'),
  // The two path grammars overlap, so the operator chooses which one owns the root.
  pathDialect: oneOf(['PIXPROXY_PATH_DIALECT'], ['imgproxy', 'previewproxy'], 'imgproxy')
    .describe('URL dialect of root paths; `/proxy?url=` is PreviewProxy\'s whatever this says.'),
  envLocalFilePath: str(['IMGPROXY_ENV_LOCAL_FILE_PATH'])
    .describe('An env file read at startup after `.env`; its values win over the environment, as imgproxy loads it. Missing file = startup error.'),
  failOnDeprecation: bool(['IMGPROXY_FAIL_ON_DEPRECATION'], false)
    .describe('A deprecated variable name (IMGPROXY_CONCURRENCY, IMGPROXY_ENABLE_WEBP_DETECTION, IMGPROXY_ENABLE_AVIF_DETECTION) stops startup instead of logging a warning.'),
} as const satisfies SchemaSection;

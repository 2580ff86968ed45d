/**
 * Composition root: builds stores, sources, cache, dialects, limiter, the image and /info
 * services and the HTTP handlers from a frozen Config, handing each only what it uses.
 * Nothing here runs per request.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { listenOptions, type Config, type ListenAddress } from './config/index.js';
import { createImgproxyDialect, type ImgproxyDialect } from './dialects/imgproxy/index.js';
import { createUrlPreprocessor } from './dialects/imgproxy/source-url.js';
import { createPreviewProxyDialect, type PreviewProxyDialect } from './dialects/previewproxy/index.js';
import { createImageCache, createCacheStores, type ImageCache } from './cache/index.js';
import { createSources, type Sources } from './sources/index.js';
import { createStorageSources } from './sources/storage-source.js';
import { checkLocalFilesystemRoot } from './sources/local.js';
import { previewSettings } from './processing/codecs/preview-settings.js';
import { unavailableEncoders } from './processing/format.js';
import { sanitizeSvg, svgSanitizeOptions } from './processing/svg-sanitize.js';
import { createProcessor } from './processing/pipeline.js';
import { unavailableCodecs } from './processing/codecs/index.js';
import { initSharp } from './processing/sharp-setup.js';
import { loadWatermark } from './processing/watermark.js';
import { createLimiter, type Limiter } from './limiter.js';
import { createLogOutput, type LogOutput, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { openSyslog } from './observability/syslog.js';
import { createStepTimer, type Tracing } from './observability/tracing.js';
import { metricsRoute } from './http/health.js';
import { createDialectPolicies } from './service/dialect-policies.js';
import { loadFallbackImage } from './service/fallback-image.js';
import { createFlow } from './service/flow.js';
import { createImageService, type ImageService } from './service/image.js';
import { createInfoService, type InfoService } from './service/info.js';
import { createSourceLoader } from './service/source.js';
import { createImageHandler } from './http/image-handler.js';
import { createInfoHandler } from './http/info-handler.js';
import { createRawHandler } from './http/raw-handler.js';
import { createResolver } from './http/resolve.js';
import { createRequestHandler, type RequestHandler } from './http/server.js';
import { createAdminHandler, mountAdmin } from './admin/api.js';
import { limitConnections, type LimitedListener } from './http/connection-limit.js';
import { deadlineResponse } from './http/write-deadline.js';

/** What the composition root built: for main.ts, tests and embedders that need one part. */
export interface AppParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** imgproxy's URL API (root path style unless PIXPROXY_PATH_DIALECT=previewproxy). */
  readonly dialect: ImgproxyDialect;
  /** PreviewProxy's URL API: `/proxy?url=` always, root path style when chosen. */
  readonly previewproxy: PreviewProxyDialect;
  readonly sources: Sources;
  readonly cache: ImageCache;
  readonly limiter: Limiter;
  /** The image flow without a socket: `getImage(request, key, signal)`. */
  readonly images: ImageService;
  /** The /info flow without a socket. */
  readonly info: InfoService;
}

export interface App {
  readonly ctx: AppParts;
  /** The embeddable `(req, res)` handler. */
  readonly handler: RequestHandler;
  /** Starts listening on config.listen (or the given TCP port and host); resolves the bound address. */
  listen(port?: number, host?: string): Promise<BoundAddress>;
  /**
   * Turns readiness false, keeps serving for PIXPROXY_DRAIN_SECS, then stops accepting, lets
   * in-flight requests finish (up to IMGPROXY_GRACEFUL_STOP_TIMEOUT) and closes stores.
   */
  close(): Promise<void>;
  /** The admin API's own listener (PIXPROXY_ADMIN_BIND) once listen() bound it, else null. */
  adminAddress(): BoundAddress | null;
}

/** Where a server listens: host and port, or (`path`) the Unix socket. */
export interface BoundAddress {
  readonly host: string;
  readonly port: number;
  readonly path?: string;
}

export interface AppOptions {
  logger?: Logger;
  /** Collect Node's default process metrics (off in tests that build many apps). */
  defaultMetrics?: boolean;
}

const SYSLOG_LEVELS: Readonly<Record<string, number>> = { debug: 20, info: 30, warn: 40, error: 50, crit: 60 };

/** The server's log output (imgproxy's format, buffered stdout, syslog), unless the embedder brings a logger. */
async function logOutputFor(config: Config): Promise<LogOutput> {
  const o = config.observability;
  const level = config.server.logLevel;
  const syslog = o.syslogEnable
    ? { writer: await openSyslog({ network: o.syslogNetwork, address: o.syslogAddress, tag: o.syslogTag }), level: SYSLOG_LEVELS[o.syslogLevel || level] ?? 30 }
    : undefined;
  return createLogOutput({ level, format: o.logFormat, ...(syslog ? { syslog } : {}) });
}

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  // Before any image is touched, the watermark's decode and /info included.
  initSharp();
  const logOutput = opts.logger ? null : await logOutputFor(config);
  const logger = opts.logger ?? (logOutput as LogOutput).logger;
  // A decoder's tool or package that is missing: its format is refused, said once here.
  for (const c of unavailableCodecs()) logger.warn({ format: c.format, by: c.by }, c.reason);
  const workers = config.server.workers > 0 ? config.server.workers : 2 * availableParallelism();
  const metrics = createMetrics(config.server.prometheusNamespace, opts.defaultMetrics ?? true, {
    ppNamespace: config.observability.ppPrometheusNamespace,
    workers,
    maxSourceBytes: config.previewproxy.maxSourceBytes,
  });
  // Imported only when enabled: the @opentelemetry packages are optional.
  const tracing: Tracing | null = config.observability.otelEnable
    ? await (await import('./observability/otel.js')).startOtel(config.observability, metrics, logger)
    : null;
  const dialect = createImgproxyDialect(config, { logger });
  const previewproxy = createPreviewProxyDialect(config, { logger });
  const rootWarning = await checkLocalFilesystemRoot(config);
  if (rootWarning) logger.warn(rootWarning);
  // One line per output format whose encoder is missing (heif-enc): it is never negotiated.
  for (const row of unavailableEncoders()) logger.warn(`${row.format} output is unavailable: ${row.unavailableReason ?? 'no encoder'}`);
  const sources = createSources(config, createStorageSources(config, logger), logger, { metrics });
  const stores = await createCacheStores(config, logger, metrics);
  const cache = createImageCache({ config, l2: stores.l2, origin: stores.origin, purges: stores.purges, direct: stores.direct, metrics, logger, budget: stores.budget });
  await cache.start();
  const limiter = createLimiter(
    { workers, queueSize: config.server.requestsQueueSize, downloads: config.server.maxDownloads },
    { onWorkersChange: (_active, waiting) => metrics.queueLength.set(waiting) },
  );
  const fetchAux = async (url: string): Promise<Buffer> => (await sources.fetch(url, { maxBytes: config.security.maxSrcFileSize })).body;
  const watermark = await loadWatermark(config, fetchAux);
  const policies = createDialectPolicies(config, await loadFallbackImage(config, fetchAux, createUrlPreprocessor(config)));

  // The PDF and video decoders' settings: ffmpeg and ffprobe are looked up (and named if missing) now.
  const previews = previewSettings(config, logger);
  const loadSource = createSourceLoader({ cache, sources, downloads: limiter.downloads, onFetched: metrics.sourceFetched, maxVideoBytes: config.previews.maxVideoSrcFileSize });
  const steps = createStepTimer(metrics);
  const flowDeps = { limiter, loadSource, timeoutMs: config.server.timeout * 1000, steps };
  // The image flow runs on the cache's own single-flight: its lookup skips L2 for a key in flight.
  const freshness = { lifeMs: config.cache.diskTtlSecs * 1000, defaults: { swrSecs: config.cache.staleWhileRevalidateSecs, sieSecs: config.cache.staleIfErrorSecs } };
  const images = createImageService({ cache, flow: createFlow({ ...flowDeps, flight: cache.singleflight }), process: createProcessor(config, previews), watermark, metrics, policies, freshness });
  const info = createInfoService({
    ...flowDeps,
    metrics,
    cache: cache.info,
    sources,
    previews: {
      previews,
      videoEnabled: config.previews.enableVideoThumbnails,
      videoSecond: config.previews.videoThumbnailSecond,
      ...(config.security.sanitizeSvg ? { sanitizeSvg: (svg: Buffer) => sanitizeSvg(svg, svgSanitizeOptions(config)) } : {}),
    },
  });
  const main = createRequestHandler({
    config,
    logger,
    metrics,
    tracing,
    steps,
    imgproxy: dialect,
    previewproxy,
    resolve: createResolver(config, cache, sources),
    image: createImageHandler({ images, config, policies }),
    raw: createRawHandler({ sources, config }),
    info: createInfoHandler({ dialect, info, config }),
    readiness: {
      get ready() {
        return ready;
      },
    },
  });
  // The admin API (docs/admin.md): under its prefix of the main port, and/or on its own listener.
  const adminDeps = { config, cache, logger };
  const adminPrefix = config.admin.pathPrefix;
  const handler = adminPrefix ? mountAdmin(adminPrefix, createAdminHandler(adminDeps, adminPrefix), main) : main;
  const ctx: AppParts = { config, logger, metrics, dialect, previewproxy, sources, cache, limiter, images, info };
  /** False from close() on: the readiness path answers 503 while the drain delay runs. */
  let ready = true;
  /** Each HTTP server with what listens for it (itself, unless IMGPROXY_MAX_CLIENTS feeds it). */
  const servers: { http: Server; listener: NetServer; limited: LimitedListener | null }[] = [];
  let adminBound: BoundAddress | null = null;

  async function listenOn(server: Server, address: ListenAddress, limited: LimitedListener | null = null): Promise<BoundAddress> {
    const listener = limited?.server ?? server;
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(listenOptions(address), () => {
        listener.off('error', reject);
        resolve();
      });
    });
    // A fed server never listens itself, and Node starts its request and header timeouts on
    // 'listening' (setupConnectionsTracking in node:_http_server).
    if (listener !== server) server.emit('listening');
    servers.push({ http: server, listener, limited });
    const addr = listener.address();
    return addr === null || typeof addr === 'string' ? { host: '', port: 0, path: addr ?? '' } : { host: addr.address, port: addr.port };
  }

  return {
    ctx,
    handler,
    adminAddress: () => adminBound,
    async listen(port?: number, host?: string) {
      const conf = config.listen;
      const address: ListenAddress = port === undefined && host === undefined
        ? conf
        : { network: conf.network === 'unix' ? 'tcp' : conf.network, host: host ?? (conf.network === 'unix' ? '' : conf.host), port: port ?? 0 };
      const keepAlive = config.server.keepAliveTimeout > 0;
      const server = createServer(
        {
          ...(keepAlive ? { keepAliveTimeout: config.server.keepAliveTimeout * 1000 } : {}),
          requestTimeout: config.server.readRequestTimeout * 1000 + config.server.timeout * 1000,
          ServerResponse: deadlineResponse(config.server.writeResponseTimeout * 1000),
        },
        handler,
      );
      // 0 turns keep-alive off, as imgproxy does (Go's SetKeepAlivesEnabled(false) in
      // https://github.com/imgproxy/imgproxy/blob/master/server/server.go): every response
      // says `Connection: close` and closes. (Node would read 0 as "no idle timeout".) While
      // draining, too: a client's next request opens a connection the balancer can send elsewhere.
      server.prependListener('request', (_req: IncomingMessage, res: ServerResponse) => {
        if (!keepAlive || !ready) res.shouldKeepAlive = false;
      });
      server.headersTimeout = config.server.readRequestTimeout * 1000;
      // Over IMGPROXY_MAX_CLIENTS a connection waits for a free slot (connection-limit.ts).
      const limited = config.server.maxClients > 0 ? limitConnections(server, config.server.maxClients) : null;
      const bound = await listenOn(server, address, limited);
      if (config.metricsListen) {
        const metricsServer = createServer(metricsRoute(metrics));
        await listenOn(metricsServer, config.metricsListen);
      }
      if (config.adminListen) {
        adminBound = await listenOn(createServer(createAdminHandler(adminDeps)), config.adminListen);
        logger.info({ host: adminBound.host, port: adminBound.port }, 'admin API listening');
      }
      logger.info({ ...(bound.path === undefined ? { host: bound.host, port: bound.port } : { path: bound.path }), workers, cache: config.cache.use }, 'listening');
      return bound;
    },
    async close() {
      ready = false;
      // Still serving: whoever polls readiness stops sending before the listener goes away.
      if (config.server.drainSecs > 0 && servers.length > 0) {
        logger.info({ seconds: config.server.drainSecs }, 'draining: readiness answers 503');
        await new Promise((resolve) => setTimeout(resolve, config.server.drainSecs * 1000));
      }
      const grace = config.server.gracefulStopTimeout * 1000;
      await Promise.all(servers.map(({ http: s, listener, limited }) => new Promise<void>((resolve) => {
        const force = setTimeout(() => s.closeAllConnections(), grace);
        // Keep-alive connections become idle as their in-flight responses finish: close
        // them as they do, instead of waiting for the keep-alive timeout.
        const idle = setInterval(() => s.closeIdleConnections(), 50);
        force.unref();
        idle.unref();
        // Closes once every connection it accepted is closed.
        listener.close(() => {
          clearTimeout(force);
          clearInterval(idle);
          resolve();
        });
        if (limited) {
          // Connections still waiting for a slot were never served; the HTTP server stops its timers.
          limited.dropWaiting();
          s.close();
        }
        s.closeIdleConnections();
      })));
      await cache.close();
      await stores.close();
      await sources.close();
      await tracing?.shutdown();
      await logOutput?.close();
    },
  };
}

/**
 * Composition root: builds stores, sources, cache, dialects, limiter, the image and /info
 * services and the HTTP handlers from a frozen Config, handing each only what it uses.
 * Nothing here runs per request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Config } from './config/index.js';
import { createImgproxyDialect, type ImgproxyDialect } from './dialects/imgproxy/index.js';
import { createPreviewProxyDialect, type PreviewProxyDialect } from './dialects/previewproxy/index.js';
import { createImageCache, createCacheStores, type ImageCache } from './cache/index.js';
import { createSources, type Sources } from './sources/index.js';
import { createStorageSources } from './sources/storage-source.js';
import { checkLocalFilesystemRoot } from './sources/local.js';
import { createProcessor } from './processing/pipeline.js';
import { loadWatermark } from './processing/watermark.js';
import { createLimiter, type Limiter } from './limiter.js';
import { createLogOutput, type LogOutput, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { openSyslog } from './observability/syslog.js';
import { createStepTimer, type Tracing } from './observability/tracing.js';
import { metricsRoute } from './http/health.js';
import { createFlow } from './service/flow.js';
import { createImageService, type ImageService } from './service/image.js';
import { createInfoService, type InfoService } from './service/info.js';
import { createSourceLoader } from './service/source.js';
import { createImageHandler } from './http/image-handler.js';
import { createInfoHandler } from './http/info-handler.js';
import { createRawHandler } from './http/raw-handler.js';
import { createResolver } from './http/resolve.js';
import { createRequestHandler, type RequestHandler } from './http/server.js';

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
  /** Starts listening on config.listen (or the given port); resolves the bound address. */
  listen(port?: number, host?: string): Promise<{ host: string; port: number }>;
  /** Stops accepting, lets in-flight requests finish (up to IMGPROXY_GRACEFUL_STOP_TIMEOUT), closes stores. */
  close(): Promise<void>;
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
  const logOutput = opts.logger ? null : await logOutputFor(config);
  const logger = opts.logger ?? (logOutput as LogOutput).logger;
  const workers = config.server.workers > 0 ? config.server.workers : 2 * availableParallelism();
  const metrics = createMetrics(config.server.prometheusNamespace, opts.defaultMetrics ?? true, {
    ppNamespace: config.observability.ppPrometheusNamespace,
    workers,
    maxSourceBytes: config.security.maxSrcFileSize,
  });
  // Imported only when enabled: the @opentelemetry packages are optional.
  const tracing: Tracing | null = config.observability.otelEnable
    ? await (await import('./observability/otel.js')).startOtel(config.observability, metrics, logger)
    : null;
  const dialect = createImgproxyDialect(config, { logger });
  const previewproxy = createPreviewProxyDialect(config, { logger });
  const rootWarning = await checkLocalFilesystemRoot(config);
  if (rootWarning) logger.warn(rootWarning);
  const sources = createSources(config, createStorageSources(config, logger), logger, { metrics });
  const stores = await createCacheStores(config, logger, metrics);
  const cache = createImageCache({ config, l2: stores.l2, origin: stores.origin, metrics, logger, budget: stores.budget });
  const limiter = createLimiter(
    { workers, queueSize: config.server.requestsQueueSize, downloads: config.server.maxDownloads },
    { onWorkersChange: (_active, waiting) => metrics.queueLength.set(waiting) },
  );
  const watermark = await loadWatermark(config, async (url) => (await sources.fetch(url, { maxBytes: config.security.maxSrcFileSize })).body);

  const loadSource = createSourceLoader({ cache, sources, downloads: limiter.downloads, onFetched: metrics.sourceFetched });
  const steps = createStepTimer(metrics);
  const flowDeps = { limiter, loadSource, timeoutMs: config.server.timeout * 1000, steps };
  // The image flow runs on the cache's own single-flight: its lookup skips L2 for a key in flight.
  const images = createImageService({ cache, flow: createFlow({ ...flowDeps, flight: cache.singleflight }), process: createProcessor(config), watermark, metrics });
  const info = createInfoService({ ...flowDeps, metrics });
  const handler = createRequestHandler({
    config,
    logger,
    metrics,
    tracing,
    steps,
    imgproxy: dialect,
    previewproxy,
    resolve: createResolver(config, cache, sources),
    image: createImageHandler({ images, config }),
    raw: createRawHandler({ sources, config }),
    info: createInfoHandler({ dialect, info, config }),
  });
  const ctx: AppParts = { config, logger, metrics, dialect, previewproxy, sources, cache, limiter, images, info };
  const servers: Server[] = [];


  async function listenOn(server: Server, port: number, host: string): Promise<{ host: string; port: number }> {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    servers.push(server);
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  return {
    ctx,
    handler,
    async listen(port = config.listen.port, host = config.listen.host) {
      const server = createServer({ keepAliveTimeout: config.server.keepAliveTimeout * 1000, requestTimeout: config.server.readRequestTimeout * 1000 + config.server.timeout * 1000 }, handler);
      server.headersTimeout = config.server.readRequestTimeout * 1000;
      if (config.server.maxClients > 0) server.maxConnections = config.server.maxClients;
      const bound = await listenOn(server, port, host);
      if (config.server.prometheusBind) {
        const m = /^(.*):(\d+)$/.exec(config.server.prometheusBind);
        const metricsServer = createServer(metricsRoute(metrics));
        await listenOn(metricsServer, Number(m?.[2] ?? 0), m?.[1] || '0.0.0.0');
      }
      logger.info({ host: bound.host, port: bound.port, workers, cache: config.cache.use }, 'listening');
      return bound;
    },
    async close() {
      const grace = config.server.gracefulStopTimeout * 1000;
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => {
        const force = setTimeout(() => s.closeAllConnections(), grace);
        // Keep-alive connections become idle as their in-flight responses finish: close
        // them as they do, instead of waiting for the keep-alive timeout.
        const idle = setInterval(() => s.closeIdleConnections(), 50);
        force.unref();
        idle.unref();
        s.close(() => {
          clearTimeout(force);
          clearInterval(idle);
          resolve();
        });
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

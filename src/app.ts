/**
 * Composition root: builds stores, sources, cache, dialect, limiter and the request
 * handler from a frozen Config. Nothing here runs per request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Config } from './config/index.js';
import { createImgproxyDialect, type ImgproxyDialect } from './dialects/imgproxy/index.js';
import { createPreviewProxyDialect, type PreviewProxyDialect } from './dialects/previewproxy/index.js';
import { varyHeader } from './negotiate.js';
import { createImageCache, createCacheStores, type ImageCache } from './cache/index.js';
import { createSources, type Sources } from './sources/index.js';
import { createStorageSources } from './sources/storage-source.js';
import { checkLocalFilesystemRoot } from './sources/local.js';
import { createProcessor } from './processing/pipeline.js';
import type { Processor } from './processing/types.js';
import { initSharp } from './processing/sharp-setup.js';
import { loadWatermark } from './processing/watermark.js';
import { createLimiter, type Limiter } from './limiter.js';
import { createLogger, type Logger } from './observability/logger.js';
import { createMetrics, type Metrics } from './observability/metrics.js';
import { createRequestHandler, type RequestHandler } from './http/server.js';
import { cacheControl } from './http/headers.js';

export interface AppContext {
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
  readonly process: Processor;
  readonly watermark: Buffer | undefined;
  /** `Vary` value for image responses, or null when nothing is negotiated. */
  readonly vary: string | null;
  /** Cache-Control of a result without `expires` (the common case, computed once). */
  readonly cacheControl: string;
}

export interface App {
  readonly ctx: AppContext;
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

export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  // Before any image is touched, the watermark's decode and /info included.
  initSharp();
  const logger = opts.logger ?? createLogger(config.server.logLevel);
  const metrics = createMetrics(config.server.prometheusNamespace, opts.defaultMetrics ?? true);
  const dialect = createImgproxyDialect(config, { logger });
  const previewproxy = createPreviewProxyDialect(config, { logger });
  const rootWarning = await checkLocalFilesystemRoot(config);
  if (rootWarning) logger.warn(rootWarning);
  const sources = createSources(config, createStorageSources(config, logger), logger, { metrics });
  const stores = await createCacheStores(config, logger, metrics);
  const cache = createImageCache({ config, l2: stores.l2, origin: stores.origin, metrics, logger, budget: stores.budget });
  const workers = config.server.workers > 0 ? config.server.workers : 2 * availableParallelism();
  const limiter = createLimiter(workers, config.server.requestsQueueSize, {
    onChange: (_active, waiting) => metrics.queueLength.set(waiting),
  });
  const watermark = await loadWatermark(config, async (url) => (await sources.fetch(url, { maxBytes: config.security.maxSrcFileSize })).body);

  const ctx: AppContext = { config, logger, metrics, dialect, previewproxy, sources, cache, limiter, process: createProcessor(config), watermark, vary: varyHeader(config), cacheControl: cacheControl(config.processing.ttl, 0) };
  const handler = createRequestHandler(ctx);
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
        const metricsServer = createServer((_req, res) => {
          metrics.registry.metrics().then((text) => {
            res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
            res.end(text);
          }, () => {
            res.writeHead(500);
            res.end();
          });
        });
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
    },
  };
}

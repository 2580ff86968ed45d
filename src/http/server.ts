/**
 * node:http request handling: a small routing table (no framework on the image hot path),
 * request ids, one log line per request (./request-log.ts), imgproxy's metrics and trace of
 * each image request, errors → status + body in the format of the route's dialect
 * (error-response.ts). The handlers it routes to (image, raw, info) are built by the
 * composition root and come in as functions; nothing here knows how an image is computed.
 *
 * PreviewProxy's routes (`/proxy`, and every path when PIXPROXY_PATH_DIALECT=previewproxy)
 * behave as PreviewProxy's middleware stack does: CORS from PP_CORS_* on every response and
 * OPTIONS answered as a preflight (cors.ts), and at most PP_MAX_CONCURRENT_REQUESTS image
 * requests in progress, one more answered 503 with `Retry-After: 1` before anything is parsed
 * (`handle_query`/`handle_path` in src/modules/proxy/controller.rs,
 * https://github.com/ViGrise/previewproxy).
 *
 * `createRequestHandler` is the embeddable export: `(req, res) => void` mountable in any
 * Node HTTP server or framework.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/index.js';
import type { ImgproxyDialect } from '../dialects/imgproxy/index.js';
import type { PreviewProxyDialect } from '../dialects/previewproxy/index.js';
import { ProxyError, toProxyError } from '../errors.js';
import { errorCategory } from '../observability/error-category.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { withRequestSpan, type RequestSpan, type StepTimer, type Tracing } from '../observability/tracing.js';
import type { ImageRequest } from '../request.js';
import { createCors } from './cors.js';
import { errorAnswer, type RouteDialect } from './error-response.js';
import { imgproxyHealth, metricsRoute, previewProxyHealth, readinessRoute, type Readiness } from './health.js';
import type { ImageHandler } from './image-handler.js';
import type { InfoHandler } from './info-handler.js';
import type { RawHandler } from './raw-handler.js';
import { createIdGenerator, requestId } from './request-id.js';
import { writeRequestLine, writeStartLine, type RequestLog } from './request-log.js';
import type { Resolver } from './resolve.js';
import { onResponseClose } from './response-close.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface RequestHandlerDeps {
  readonly config: Pick<Config, 'server' | 'observability' | 'previewproxy'>;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'requestStarted' | 'requestFinished' | 'error' | 'text' | 'contentType' | 'cacheFigures'>;
  /** OpenTelemetry when IMGPROXY_OPEN_TELEMETRY_ENABLE is on. */
  readonly tracing?: Tracing | null;
  /** Times a `raw` response as imgproxy's `streaming_image` span. */
  readonly steps?: StepTimer;
  /** imgproxy's URL API (root path style unless PIXPROXY_PATH_DIALECT=previewproxy). */
  readonly imgproxy: Pick<ImgproxyDialect, 'parseImage'>;
  /** PreviewProxy's URL API: `/proxy?url=` always, root path style when chosen. */
  readonly previewproxy: PreviewProxyDialect;
  readonly resolve: Resolver;
  readonly image: ImageHandler;
  readonly raw: RawHandler;
  readonly info: InfoHandler;
  /** Answers PIXPROXY_READINESS_PATH (always ready when absent). */
  readonly readiness?: Readiness;
}

export function createRequestHandler(deps: RequestHandlerDeps): RequestHandler {
  const { config, logger, metrics, resolve } = deps;
  const tracing = deps.tracing ?? null;
  const obs = config.observability;
  const prefix = config.server.pathPrefix;
  const pathDialect = config.server.pathDialect;
  const imgproxyHealthCheck = imgproxyHealth(obs.healthCheckMessage);
  // PreviewProxy's /health is its JSON; IMGPROXY_HEALTH_CHECK_PATH stays imgproxy's text.
  const health = new Map([['/health', pathDialect === 'previewproxy' ? previewProxyHealth(metrics) : imgproxyHealthCheck]]);
  if (config.server.healthCheckPath && config.server.healthCheckPath !== '/health') health.set(config.server.healthCheckPath, imgproxyHealthCheck);
  health.set(config.server.readinessPath, readinessRoute(deps.readiness ?? { ready: true }));
  const serveMetrics = obs.metricsOnMainPort ? metricsRoute(metrics) : null;
  const secret = config.server.secret ? Buffer.from(`Bearer ${config.server.secret}`) : null;
  const cors: Array<[string, string]> = config.server.allowOrigin
    ? [['Access-Control-Allow-Origin', config.server.allowOrigin], ['Access-Control-Allow-Methods', 'GET, OPTIONS']]
    : [];
  const serverName = obs.serverName;
  const newId = createIdGenerator();
  const pp = config.previewproxy;
  const ppCors = createCors({ allowOrigin: pp.corsAllowOrigin, maxAgeSecs: pp.corsMaxAgeSecs });
  /** PreviewProxy image requests in progress (its semaphore of PP_MAX_CONCURRENT_REQUESTS permits). */
  let ppInProgress = 0;
  /** `path` after the prefix. */
  const dialectOf = (path: string): RouteDialect =>
    path === '/proxy' || (pathDialect === 'previewproxy' && !path.startsWith('/info/')) ? 'previewproxy' : 'imgproxy';

  return (req, res) => {
    const started = performance.now();
    const id = requestId(req.headers['x-request-id'], req.headers['x-amzn-request-context'], newId);
    const log: RequestLog = {};
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q >= 0 ? url.slice(0, q) : url;
    // Outside the prefix nothing is routed; imgproxy's rules answer.
    const routed = !prefix || path.startsWith(prefix);
    const dialect: RouteDialect = routed ? dialectOf(path.slice(prefix.length) || '/') : 'imgproxy';
    // The headers every answer of this route carries, the id first. An image answer writes them
    // with its own in one writeHead (node:http's fast path needs a response with no header set
    // yet); every other answer gets them set on `res` first (useBase).
    const head: string[] = ['X-Request-ID', id];
    if (serverName !== '') head.push('Server', serverName);
    if (dialect === 'previewproxy') for (const [k, v] of Object.entries(ppCors.response(req.headers))) head.push(k, v);
    else for (const [k, v] of cors) head.push(k, v);
    let headApplied = false;
    const useBase = (): void => {
      if (headApplied || res.headersSent) return;
      headApplied = true;
      for (let i = 0; i < head.length; i += 2) res.setHeader(head[i] ?? '', head[i + 1] ?? '');
    };
    let quiet = false;
    // imgproxy's monitored route: image requests (processing, raw, /info), not health or landing.
    let monitored = false;
    let span: RequestSpan | null = null;

    onResponseClose(res, () => {
      const status = res.writableFinished ? res.statusCode : 499;
      const durationMs = performance.now() - started;
      if (monitored) {
        metrics.requestFinished(status, durationMs / 1000, log.cache);
        span?.end(status);
      }
      if (!quiet) writeRequestLine(logger, req, id, status, durationMs, log);
    });

    const fail = (err: unknown) => {
      useBase();
      const e = toProxyError(err);
      if (monitored) {
        const category = errorCategory(e.code, log.cache === 'RAW');
        metrics.error(category, e.code);
        if (category !== null) span?.error(category, e.message);
      }
      log.error = e.message;
      if (e.code === 'INTERNAL') {
        const cause = e.cause instanceof Error ? e.cause : e;
        log.stack = cause.stack ?? cause.message;
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const answer = errorAnswer(e, dialect, config.server.developmentErrorsMode);
      res.writeHead(answer.status, answer.headers);
      // Never a HEAD: those are answered before anything can fail.
      res.end(answer.body);
    };

    const route = () => {
      try {
        if (secret !== null) {
          const auth = Buffer.from(req.headers.authorization ?? '');
          if (auth.length !== secret.length || !timingSafeEqual(auth, secret)) throw new ProxyError('FORBIDDEN', 'bad or missing Authorization secret');
        }
        if (path.startsWith('/info/')) {
          useBase();
          log.cache = 'INFO';
          deps.info(req, res, path.slice('/info'.length), log).catch(fail);
          return;
        }
        if (dialect === 'previewproxy') {
          if (ppInProgress >= pp.maxConcurrentRequests) throw new ProxyError('OVERLOADED', `PP_MAX_CONCURRENT_REQUESTS=${pp.maxConcurrentRequests} requests in progress`);
          ppInProgress++;
          // The permit is held until the answer is complete or the client is gone, as
          // PreviewProxy's permit lives inside the response body.
          onResponseClose(res, () => ppInProgress--);
        }
        const query = () => new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
        let parse: () => ImageRequest;
        let routeId: string;
        if (path === '/proxy') [routeId, parse] = [`q\0${url}`, () => deps.previewproxy.parseQuery(query(), req.headers)];
        else if (pathDialect === 'previewproxy') [routeId, parse] = [`p\0${url}`, () => deps.previewproxy.parsePath(path, query(), req.headers)];
        else [routeId, parse] = [`i\0${path}`, () => deps.imgproxy.parseImage(path, req.headers)];
        const resolved = resolve(routeId, parse, req.headers);
        log.source = resolved.request.source;
        if (resolved.request.options.raw) {
          useBase();
          if (deps.steps) onResponseClose(res, deps.steps('streaming'));
          deps.raw(req, res, resolved.request, log).catch(fail);
        } else deps.image(req, res, resolved, log, head)?.catch(fail);
      } catch (err) {
        fail(err);
      }
    };

    try {
      if (prefix) {
        if (!path.startsWith(prefix)) {
          useBase();
          return notFound(res);
        }
        path = path.slice(prefix.length) || '/';
      }
      const method = req.method ?? 'GET';
      if (method === 'OPTIONS' && dialect === 'previewproxy') {
        // tower-http answers every OPTIONS as a preflight, before any route runs.
        quiet = true;
        useBase();
        res.writeHead(200, { ...ppCors.preflight(req.headers), 'Content-Length': '0' });
        res.end();
        return;
      }
      if (method === 'OPTIONS' || method === 'HEAD') {
        // imgproxy answers both with 200 and a single-space body, without processing anything.
        useBase();
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(method === 'HEAD' ? undefined : ' ');
        return;
      }
      if (method !== 'GET') {
        useBase();
        return notFound(res);
      }
      const healthCheck = health.get(path);
      if (healthCheck) {
        quiet = true;
        useBase();
        return healthCheck(req, res);
      }
      if (serveMetrics && path === '/metrics') {
        quiet = true;
        useBase();
        return serveMetrics(req, res);
      }
      if (path === '/' || path === '') {
        quiet = true;
        useBase();
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('pixproxy: imgproxy-compatible image proxy with a first-class cache\n');
        return;
      }
      if (path === '/favicon.ico' || path.startsWith('/.well-known/')) {
        quiet = true;
        useBase();
        return notFound(res);
      }
      monitored = true;
      writeStartLine(logger, req, id);
      metrics.requestStarted();
      if (tracing) {
        span = tracing.startRequest(req, path);
        withRequestSpan(span, route);
      } else route();
    } catch (err) {
      fail(err);
    }
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end(' ');
}

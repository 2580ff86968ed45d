/**
 * node:http request handling: a small routing table (no framework on the image hot path),
 * request ids, one JSON log line per request, errors → status + body in the format of the
 * route's dialect (error-response.ts). The handlers it routes to (image, raw, info) are built
 * by the composition root and come in as functions; nothing here knows how an image is
 * computed.
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
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/index.js';
import type { ImgproxyDialect } from '../dialects/imgproxy/index.js';
import type { PreviewProxyDialect } from '../dialects/previewproxy/index.js';
import { ProxyError, toProxyError } from '../errors.js';
import { createCors } from './cors.js';
import { errorAnswer, type RouteDialect } from './error-response.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { ImageRequest } from '../request.js';
import { requestId } from './headers.js';
import type { ImageHandler } from './image-handler.js';
import type { InfoHandler } from './info-handler.js';
import type { RawHandler } from './raw-handler.js';
import type { RequestLog } from './request-log.js';
import type { Resolver } from './resolve.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface RequestHandlerDeps {
  readonly config: Pick<Config, 'server' | 'previewproxy'>;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'requests' | 'requestDuration' | 'errors' | 'registry'>;
  /** imgproxy's URL API (root path style unless PIXPROXY_PATH_DIALECT=previewproxy). */
  readonly imgproxy: Pick<ImgproxyDialect, 'parseImage'>;
  /** PreviewProxy's URL API: `/proxy?url=` always, root path style when chosen. */
  readonly previewproxy: PreviewProxyDialect;
  readonly resolve: Resolver;
  readonly image: ImageHandler;
  readonly raw: RawHandler;
  readonly info: InfoHandler;
}

export function createRequestHandler(deps: RequestHandlerDeps): RequestHandler {
  const { config, logger, metrics, resolve } = deps;
  const prefix = config.server.pathPrefix;
  const healthPaths = new Set(['/health', ...(config.server.healthCheckPath ? [config.server.healthCheckPath] : [])]);
  const serveMetrics = config.server.prometheusBind === '';
  const pathDialect = config.server.pathDialect;
  const secret = config.server.secret ? Buffer.from(`Bearer ${config.server.secret}`) : null;
  const cors: Record<string, string> = config.server.allowOrigin
    ? { 'Access-Control-Allow-Origin': config.server.allowOrigin, 'Access-Control-Allow-Methods': 'GET, OPTIONS' }
    : {};
  const pp = config.previewproxy;
  const ppCors = createCors({ allowOrigin: pp.corsAllowOrigin, maxAgeSecs: pp.corsMaxAgeSecs });
  /** PreviewProxy image requests in progress (its semaphore of PP_MAX_CONCURRENT_REQUESTS permits). */
  let ppInProgress = 0;
  /** `path` after the prefix. */
  const dialectOf = (path: string): RouteDialect =>
    path === '/proxy' || (pathDialect === 'previewproxy' && !path.startsWith('/info/')) ? 'previewproxy' : 'imgproxy';

  // Labelled metric children, looked up once per label value rather than hashed per request.
  const byStatus = new Map<number, { inc(): void }>();
  const byOutcome = new Map<string, { observe(v: number): void }>();
  const countStatus = (status: number) => {
    let c = byStatus.get(status);
    if (!c) byStatus.set(status, (c = metrics.requests.labels(String(status))));
    c.inc();
  };
  const observeDuration = (outcome: string, seconds: number) => {
    let h = byOutcome.get(outcome);
    if (!h) byOutcome.set(outcome, (h = metrics.requestDuration.labels(outcome)));
    h.observe(seconds);
  };
  const logInfo = logger.isLevelEnabled('info');

  return (req, res) => {
    const started = process.hrtime.bigint();
    const id = requestId(req.headers['x-request-id'], randomUUID);
    res.setHeader('X-Request-ID', id);
    res.setHeader('Server', 'pixproxy');
    const log: RequestLog = {};
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q >= 0 ? url.slice(0, q) : url;
    let quiet = false;
    // Outside the prefix nothing is routed; imgproxy's rules answer.
    const routed = !prefix || path.startsWith(prefix);
    const dialect: RouteDialect = routed ? dialectOf(path.slice(prefix.length) || '/') : 'imgproxy';
    const corsHeaders = dialect === 'previewproxy' ? ppCors.response(req.headers) : cors;
    for (const [k, v] of Object.entries(corsHeaders)) res.setHeader(k, v);

    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : 499;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      countStatus(status);
      if (log.cache) observeDuration(log.cache, durationMs / 1000);
      if (quiet || !logInfo) return;
      logger.info({ reqId: id, method: req.method, path, status, durationMs: Math.round(durationMs * 100) / 100, source: log.source, cache: log.cache, joined: log.joined || undefined }, 'request');
    });

    const fail = (err: unknown) => {
      const e = toProxyError(err);
      metrics.errors.inc({ type: e.code.toLowerCase() });
      if (e.status >= 500 && e.code === 'INTERNAL') logger.error({ reqId: id, err: e.cause ?? e, path }, 'internal error');
      else logger.debug({ reqId: id, code: e.code, detail: e.message, path }, 'request failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const answer = errorAnswer(e, dialect, config.server.developmentErrorsMode);
      res.writeHead(answer.status, answer.headers);
      // Never a HEAD: those are answered before anything can fail.
      res.end(answer.body);
    };

    try {
      if (prefix) {
        if (!path.startsWith(prefix)) return notFound(res);
        path = path.slice(prefix.length) || '/';
      }
      const method = req.method ?? 'GET';
      if (method === 'OPTIONS' && dialect === 'previewproxy') {
        // tower-http answers every OPTIONS as a preflight, before any route runs.
        quiet = true;
        res.writeHead(200, { ...ppCors.preflight(req.headers), 'Content-Length': '0' });
        res.end();
        return;
      }
      if (method === 'OPTIONS' || method === 'HEAD') {
        // imgproxy answers both with 200 and a single-space body, without processing anything.
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end(method === 'HEAD' ? undefined : ' ');
        return;
      }
      if (method !== 'GET') return notFound(res);
      if (healthPaths.has(path)) {
        quiet = true;
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' });
        res.end('pixproxy is running');
        return;
      }
      if (path === '/metrics' && serveMetrics) {
        quiet = true;
        metrics.registry.metrics().then((text) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(text);
        }, fail);
        return;
      }
      if (path === '/' || path === '') {
        quiet = true;
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('pixproxy: imgproxy-compatible image proxy with a first-class cache\n');
        return;
      }
      if (path === '/favicon.ico' || path.startsWith('/.well-known/')) {
        quiet = true;
        return notFound(res);
      }
      if (secret !== null) {
        const auth = Buffer.from(req.headers.authorization ?? '');
        if (auth.length !== secret.length || !timingSafeEqual(auth, secret)) throw new ProxyError('FORBIDDEN', 'bad or missing Authorization secret');
      }
      if (path.startsWith('/info/')) {
        deps.info(req, res, path.slice('/info'.length), log).catch(fail);
        return;
      }
      if (dialect === 'previewproxy') {
        if (ppInProgress >= pp.maxConcurrentRequests) throw new ProxyError('OVERLOADED', `PP_MAX_CONCURRENT_REQUESTS=${pp.maxConcurrentRequests} requests in progress`);
        ppInProgress++;
        // The permit is held until the answer is complete or the client is gone, as
        // PreviewProxy's permit lives inside the response body.
        res.once('close', () => ppInProgress--);
      }
      const query = () => new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
      let parse: () => ImageRequest;
      let routeId: string;
      if (path === '/proxy') [routeId, parse] = [`q\0${url}`, () => deps.previewproxy.parseQuery(query(), req.headers)];
      else if (pathDialect === 'previewproxy') [routeId, parse] = [`p\0${url}`, () => deps.previewproxy.parsePath(path, query(), req.headers)];
      else [routeId, parse] = [`i\0${path}`, () => deps.imgproxy.parseImage(path, req.headers)];
      const resolved = resolve(routeId, parse, req.headers);
      log.source = resolved.request.source;
      const work = resolved.request.options.raw ? deps.raw(req, res, resolved.request, log) : deps.image(req, res, resolved, log);
      work.catch(fail);
    } catch (err) {
      fail(err);
    }
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end(' ');
}

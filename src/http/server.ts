/**
 * node:http request handling: a small routing table (no framework on the image hot path),
 * request ids, one JSON log line per request, errors → status + plain-text body.
 *
 * `createRequestHandler` is the embeddable export: `(req, res) => void` mountable in any
 * Node HTTP server or framework.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { ProxyError, toProxyError } from '../errors.js';
import type { AppContext } from '../app.js';
import { requestId, SECURITY_HEADERS } from './headers.js';
import { handleImage } from './image-handler.js';
import { createResolver } from './resolve.js';
import { handleInfo } from './info-handler.js';

export interface RequestLog {
  source?: string;
  cache?: string;
  joined?: boolean;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createRequestHandler(ctx: AppContext): RequestHandler {
  const prefix = ctx.config.server.pathPrefix;
  const healthPaths = new Set(['/health', ...(ctx.config.server.healthCheckPath ? [ctx.config.server.healthCheckPath] : [])]);
  const serveMetrics = ctx.config.server.prometheusBind === '';
  const pathDialect = ctx.config.server.pathDialect;
  const resolve = createResolver(ctx.config, ctx.cache, ctx.sources);
  const secret = ctx.config.server.secret ? Buffer.from(`Bearer ${ctx.config.server.secret}`) : null;
  const cors: Record<string, string> = ctx.config.server.allowOrigin
    ? { 'Access-Control-Allow-Origin': ctx.config.server.allowOrigin, 'Access-Control-Allow-Methods': 'GET, OPTIONS' }
    : {};

  // Labelled metric children, looked up once per label value rather than hashed per request.
  const byStatus = new Map<number, { inc(): void }>();
  const byOutcome = new Map<string, { observe(v: number): void }>();
  const countStatus = (status: number) => {
    let c = byStatus.get(status);
    if (!c) byStatus.set(status, (c = ctx.metrics.requests.labels(String(status))));
    c.inc();
  };
  const observeDuration = (outcome: string, seconds: number) => {
    let h = byOutcome.get(outcome);
    if (!h) byOutcome.set(outcome, (h = ctx.metrics.requestDuration.labels(outcome)));
    h.observe(seconds);
  };
  const logInfo = ctx.logger.isLevelEnabled('info');

  return (req, res) => {
    const started = process.hrtime.bigint();
    const id = requestId(req.headers['x-request-id'], randomUUID);
    res.setHeader('X-Request-ID', id);
    res.setHeader('Server', 'pixproxy');
    for (const [k, v] of Object.entries(cors)) res.setHeader(k, v);
    const log: RequestLog = {};
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    let path = q >= 0 ? url.slice(0, q) : url;
    let quiet = false;

    res.once('close', () => {
      const status = res.writableFinished ? res.statusCode : 499;
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      countStatus(status);
      if (log.cache) observeDuration(log.cache, durationMs / 1000);
      if (quiet || !logInfo) return;
      ctx.logger.info({ reqId: id, method: req.method, path, status, durationMs: Math.round(durationMs * 100) / 100, source: log.source, cache: log.cache, joined: log.joined || undefined }, 'request');
    });

    const fail = (err: unknown) => {
      const e = toProxyError(err);
      ctx.metrics.errors.inc({ type: e.code.toLowerCase() });
      if (e.status >= 500 && e.code === 'INTERNAL') ctx.logger.error({ reqId: id, err: e.cause ?? e, path }, 'internal error');
      else ctx.logger.debug({ reqId: id, code: e.code, detail: e.message, path }, 'request failed');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const body = ctx.config.server.developmentErrorsMode ? `${e.publicMessage}: ${e.message}` : e.publicMessage;
      res.writeHead(e.status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };

    try {
      if (prefix) {
        if (!path.startsWith(prefix)) return notFound(res);
        path = path.slice(prefix.length) || '/';
      }
      const method = req.method ?? 'GET';
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
        ctx.metrics.registry.metrics().then((text) => {
          res.writeHead(200, { 'Content-Type': ctx.metrics.registry.contentType });
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
      const query = () => new URLSearchParams(q >= 0 ? url.slice(q + 1) : '');
      let work: Promise<void>;
      if (path.startsWith('/info/')) work = handleInfo(ctx, req, res, path.slice('/info'.length), log);
      else if (path === '/proxy') work = handleImage(ctx, req, res, () => resolve(`q\0${url}`, () => ctx.previewproxy.parseQuery(query(), req.headers), req.headers), log);
      else if (pathDialect === 'previewproxy') work = handleImage(ctx, req, res, () => resolve(`p\0${url}`, () => ctx.previewproxy.parsePath(path, query(), req.headers), req.headers), log);
      else work = handleImage(ctx, req, res, () => resolve(`i\0${path}`, () => ctx.dialect.parseImage(path, req.headers), req.headers), log);
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

/**
 * The admin API (docs/admin.md, docs/admin.openapi.yaml): JSON in and out, every call
 * authenticated by the bearer secret (auth.ts). Served on its own listener
 * (PIXPROXY_ADMIN_BIND) and/or under PIXPROXY_ADMIN_PATH_PREFIX of the main port (`mountAdmin`).
 *
 *   GET  /stats   what the cache holds and how purges travel (ImageCache.stats)
 *   POST /purge   one purge (targets.ts), answered with its counts per layer
 *
 * A purge's storage failure is answered 503 with what failed; nothing here is a 500.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ImageCache } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { ProxyError, toProxyError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { bearerCheck } from './auth.js';
import { createTargetParser } from './targets.js';

export type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** The routes and their methods: the OpenAPI file documents exactly these (test/unit/admin). */
export const ADMIN_ROUTES = { '/stats': 'GET', '/purge': 'POST' } as const;

/** Largest request body read (a purge body is one URL). */
export const MAX_BODY_BYTES = 64 * 1024;

export interface AdminDeps {
  readonly config: Config;
  readonly cache: Pick<ImageCache, 'purge' | 'stats' | 'info'>;
  readonly logger: Logger;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': data.length, 'Cache-Control': 'no-store', ...headers });
  res.end(data);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ProxyError('BAD_REQUEST', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new ProxyError('BAD_REQUEST', 'body: expected JSON');
  }
}

/** `base`: the path prefix the routes sit under ('' on the admin's own listener). */
export function createAdminHandler(deps: AdminDeps, base = ''): AdminHandler {
  const { cache, logger } = deps;
  const authorized = bearerCheck(deps.config.admin.secret);
  const parseTarget = createTargetParser(deps.config, cache.info);
  const log = logger.child({ module: 'admin' });

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = (ADMIN_ROUTES as Record<string, string>)[path];
    if (method === undefined) throw new ProxyError('NOT_FOUND', `no admin route ${path}`);
    if (req.method !== method) {
      res.setHeader('Allow', method);
      throw new ProxyError('METHOD_NOT_ALLOWED', `${path} takes ${method}`);
    }
    if (path === '/stats') return send(res, 200, cache.stats());
    const request = parseTarget(await readJson(req));
    let result;
    try {
      result = await cache.purge(request);
    } catch (err) {
      throw new ProxyError('CACHE_UNAVAILABLE', `purge failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    log.info({ purge: request.target, origin: request.origin, id: result.id, purged: result.purged }, 'purge');
    send(res, 200, result);
  }

  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = (q >= 0 ? url.slice(0, q) : url).slice(base.length) || '/';
    const fail = (err: unknown): void => {
      const e = toProxyError(err);
      if (e.code === 'INTERNAL') log.error({ err: e.cause ?? e }, 'admin call failed');
      if (res.headersSent) return void res.destroy();
      send(res, e.status, { error: { code: e.code, message: e.message } }, e.code === 'UNAUTHORIZED' ? { 'WWW-Authenticate': 'Bearer realm="pixproxy-admin"' } : {});
    };
    if (!authorized(req.headers.authorization)) {
      // The body is not read: drain it so the connection can be reused.
      req.resume();
      return fail(new ProxyError('UNAUTHORIZED', 'expected Authorization: Bearer <PIXPROXY_ADMIN_SECRET>'));
    }
    route(req, res, path).catch(fail);
  };
}

/** The main port's handler with the admin API under `prefix` (matched before any image route). */
export function mountAdmin(prefix: string, admin: AdminHandler, main: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? '/';
    if (url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`)) admin(req, res);
    else main(req, res);
  };
}

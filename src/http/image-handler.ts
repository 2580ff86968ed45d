/**
 * The image request flow (ARCHITECTURE.md "Data flow of one image request"):
 * parse + verify → cache key → L1 → L2 → single-flight(limiter(origin store / fetch →
 * detect → process) → store) → respond.
 *
 * Cache hits never wait for a worker. The computation is detached from the client that
 * started it (followers may still need it) and bounded by IMGPROXY_TIMEOUT on its own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProxyError } from '../errors.js';
import type { ImageRequest } from '../request.js';
import { MIME_TYPES } from '../options.js';
import { makeCachedImage, type CachedImage } from '../cache/index.js';
import { detectImageFormat } from '../sources/detect.js';
import { isSourceAllowed } from '../security/allowed-sources.js';
import type { AppContext } from '../app.js';
import { cacheControl, contentDisposition, ifNoneMatchHits, SECURITY_HEADERS } from './headers.js';
import type { RequestLog } from './server.js';

/** `parse` turns the request into an ImageRequest with the dialect that owns the route. */
export async function handleImage(ctx: AppContext, req: IncomingMessage, res: ServerResponse, parse: () => ImageRequest, log: RequestLog): Promise<void> {
  const request = parse();
  log.source = request.source;
  // Seed: "The cache is protected by the same security measures as imgproxy itself": the
  // source allowlist is checked before the cache too (sources.fetch checks it again, and
  // every redirect hop), so narrowing IMGPROXY_ALLOWED_SOURCES also closes cached entries.
  if (!isSourceAllowed(request.source, ctx.config)) {
    throw new ProxyError('INVALID_SOURCE_URL', `source not allowed by IMGPROXY_ALLOWED_SOURCES: ${request.source}`);
  }

  if (request.options.raw) {
    await streamRaw(ctx, request, res, log);
    return;
  }

  const key = ctx.cache.key(request, req.headers);
  const hit = await ctx.cache.lookup(key);
  if (hit) {
    log.cache = hit.layer;
    sendImage(ctx, req, res, request, hit.image, hit.layer);
    return;
  }

  const deadline = ctx.config.server.timeout * 1000;
  const { value: image, joined } = await withTimeout(
    ctx.cache.singleflight.run(key, async () => {
      const computed = await ctx.limiter.run(() => compute(ctx, request));
      // Seed: "processes the image and stores the result in the cache before serving it".
      // Stored by the computation itself, before any waiter is answered: a request arriving
      // after the single-flight ends finds it, and a leader whose client has gone (or timed
      // out) does not lose it. store() never throws and only starts the L2 write.
      ctx.cache.store(key, computed);
      return computed;
    }),
    deadline,
  );
  log.cache = 'MISS';
  log.joined = joined;
  sendImage(ctx, req, res, request, image, 'MISS');
}

async function compute(ctx: AppContext, request: ImageRequest): Promise<CachedImage> {
  const opts = request.options;
  const maxBytes = opts.maxSrcFileSize;
  const { response } = await ctx.cache.getSource(request.source, (conditional) => ctx.sources.fetch(request.source, { maxBytes, ...conditional }));
  if (response.status !== 200) throw new ProxyError('SOURCE_UNREACHABLE', `unexpected status ${response.status} for an unconditional fetch`);
  if (detectImageFormat(response.body) === null) throw new ProxyError('INVALID_IMAGE', 'source type could not be detected from its first bytes');
  ctx.metrics.imagesInProgress.inc();
  try {
    const result = await ctx.process(response.body, opts, ctx.watermark ? { watermark: ctx.watermark } : {});
    ctx.metrics.transforms.inc({ format: result.format });
    return makeCachedImage(result, { originSize: response.body.length });
  } finally {
    ctx.metrics.imagesInProgress.dec();
  }
}

function sendImage(ctx: AppContext, req: IncomingMessage, res: ServerResponse, request: ImageRequest, image: CachedImage, outcome: 'HIT-L1' | 'HIT-L2' | 'MISS'): void {
  const cfg = ctx.config;
  const opts = request.options;
  const headers: Record<string, string | number> = {
    ...SECURITY_HEADERS,
    'Cache-Control': cacheControl(cfg.processing.ttl, opts.expires),
    ETag: image.etag,
    'X-Cache': outcome,
  };
  if (ctx.vary) headers.Vary = ctx.vary;
  if (cfg.server.enableDebugHeaders) {
    if (image.originWidth !== undefined) headers['X-Origin-Width'] = image.originWidth;
    if (image.originHeight !== undefined) headers['X-Origin-Height'] = image.originHeight;
    if (image.originSize !== undefined) headers['X-Origin-Content-Length'] = image.originSize;
    headers['X-Result-Width'] = image.width;
    headers['X-Result-Height'] = image.height;
  }
  if (ifNoneMatchHits(req.headers['if-none-match'], image.etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['Content-Type'] = image.contentType;
  headers['Content-Length'] = image.data.length;
  headers['Content-Disposition'] = contentDisposition(opts.filename, request.source, image.format, opts.returnAttachment);
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : image.data);
}

/** `raw`: the source's bytes untouched (type still sniffed: we never echo a foreign Content-Type). */
async function streamRaw(ctx: AppContext, request: ImageRequest, res: ServerResponse, log: RequestLog): Promise<void> {
  const response = await ctx.sources.fetch(request.source, { maxBytes: request.options.maxSrcFileSize });
  const format = detectImageFormat(response.body);
  if (format === null) throw new ProxyError('INVALID_IMAGE', 'raw source type could not be detected');
  log.cache = 'RAW';
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': MIME_TYPES[format],
    'Content-Length': response.body.length,
    'Cache-Control': cacheControl(ctx.config.processing.ttl, request.options.expires),
    ...(response.etag ? { ETag: response.etag } : {}),
    ...(response.lastModified ? { 'Last-Modified': response.lastModified } : {}),
  });
  res.end(response.body);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProxyError('TIMEOUT', `request exceeded IMGPROXY_TIMEOUT (${ms} ms)`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

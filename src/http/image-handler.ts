/**
 * The image request flow (CONTRIBUTING.md "Data flow of one request"):
 * parse + verify → cache key → L1 → L2 → single-flight(limiter(origin store / fetch →
 * detect → process) → store) → respond.
 *
 * Cache hits never wait for a worker. The computation is detached from the client that
 * started it (followers may still need it) and bounded by IMGPROXY_TIMEOUT on its own.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ProxyError } from '../errors.js';
import type { ImageRequest } from '../request.js';
import { MIME_TYPES } from '../options.js';
import { makeCachedImage, type CachedImage } from '../cache/index.js';
import { detectImageFormat, SVG_SCAN_LIMIT } from '../sources/detect.js';
import { parseContentRange } from '../sources/range.js';
import type { FetchOptions, SourceStream } from '../sources/types.js';
import type { AppContext } from '../app.js';
import { cacheControl, contentDisposition, ifNoneMatchHits, rawContentDisposition, SECURITY_HEADERS } from './headers.js';
import type { RequestLog } from './server.js';
import type { Resolved } from './resolve.js';

/** `resolve` parses and verifies with the dialect that owns the route (memoised, see resolve.ts). */
export async function handleImage(ctx: AppContext, req: IncomingMessage, res: ServerResponse, resolve: () => Resolved, log: RequestLog): Promise<void> {
  const { request, key } = resolve();
  log.source = request.source;

  if (request.options.raw) {
    await streamRaw(ctx, req, request, res, log);
    return;
  }

  const hit = await ctx.cache.lookup(key);
  if (hit) {
    log.cache = hit.layer;
    sendImage(ctx, req, res, request, hit.image, hit.layer);
    return;
  }

  const deadline = ctx.config.server.timeout * 1000;
  const signal = interestIn(ctx, key, res);
  const { value: image, joined } = await withTimeout(
    ctx.cache.singleflight.run(key, async () => {
      const computed = await ctx.limiter.run(() => compute(ctx, request, signal), signal);
      // Seed: "processes the image and stores the result in the cache before serving it".
      // Stored by the computation, before any waiter is answered, whether or not the client
      // that started it is still there: L1 at once, and the L2 entry is readable as a write
      // in flight; the disk work itself starts after the responses (store() defers it).
      ctx.cache.store(key, computed);
      return computed;
    }),
    deadline,
  );
  log.cache = 'MISS';
  log.joined = joined;
  sendImage(ctx, req, res, request, image, 'MISS');
}

interface Interest {
  clients: number;
  controller: AbortController;
}

const interests = new WeakMap<AppContext, Map<string, Interest>>();

/**
 * Counts the clients waiting for one key. When the last of them goes away before its
 * answer, the computation is abandoned: dropped from the worker queue if it is still
 * waiting there, stopped at the next pipeline stage if it is running. While any
 * single-flight follower still waits, the work goes on.
 */
function interestIn(ctx: AppContext, key: string, res: ServerResponse): AbortSignal {
  let byKey = interests.get(ctx);
  if (!byKey) {
    byKey = new Map();
    interests.set(ctx, byKey);
  }
  const map = byKey;
  let entry = map.get(key);
  if (!entry) {
    entry = { clients: 0, controller: new AbortController() };
    map.set(key, entry);
  }
  const e = entry;
  e.clients++;
  res.once('close', () => {
    e.clients--;
    if (e.clients > 0) return;
    if (map.get(key) === e) map.delete(key);
    if (!res.writableFinished) e.controller.abort(new ProxyError('CANCELLED', 'every client waiting for this image went away'));
  });
  return e.controller.signal;
}

async function compute(ctx: AppContext, request: ImageRequest, signal: AbortSignal): Promise<CachedImage> {
  const opts = request.options;
  const maxBytes = opts.maxSrcFileSize;
  const { response } = await ctx.cache.getSource(request.source, (conditional) => ctx.sources.fetch(request.source, { maxBytes, ...conditional }));
  if (response.status !== 200) throw new ProxyError('SOURCE_UNREACHABLE', `unexpected status ${response.status} for an unconditional fetch`);
  if (detectImageFormat(response.body) === null) throw new ProxyError('INVALID_IMAGE', 'source type could not be detected from its first bytes');
  ctx.metrics.imagesInProgress.inc();
  try {
    const result = await ctx.process(response.body, opts, ctx.watermark ? { watermark: ctx.watermark, signal } : { signal });
    ctx.metrics.transforms.inc({ format: result.format });
    const h = response.headers;
    return makeCachedImage(result, {
      originSize: response.body.length,
      ...(response.lastModified ? { originLastModified: response.lastModified } : {}),
      ...(h['cache-control'] ? { originCacheControl: h['cache-control'] } : {}),
      ...(h.expires ? { originExpires: h.expires } : {}),
    });
  } finally {
    ctx.metrics.imagesInProgress.dec();
  }
}

const SECURITY_HEADER_LIST: readonly string[] = Object.entries(SECURITY_HEADERS).flat();
const dispositions = new WeakMap<ImageRequest, { format: string; value: string }>();

/** Content-Disposition per resolved request (memoised requests are reused objects). */
function dispositionFor(request: ImageRequest, image: CachedImage): string {
  const known = dispositions.get(request);
  if (known?.format === image.format) return known.value;
  const value = contentDisposition(request.options.filename, request.source, image.format, request.options.returnAttachment);
  dispositions.set(request, { format: image.format, value });
  return value;
}

/**
 * Writes a cached or fresh result. On the hit path this is most of the work left, so the
 * headers go to writeHead as one flat list (no per-header object spread or setHeader).
 */
function sendImage(ctx: AppContext, req: IncomingMessage, res: ServerResponse, request: ImageRequest, image: CachedImage, outcome: 'HIT-L1' | 'HIT-L2' | 'MISS'): void {
  const cfg = ctx.config;
  const dl = cfg.download;
  const opts = request.options;
  const headers: (string | number)[] = [...SECURITY_HEADER_LIST, 'Cache-Control', cacheControlFor(ctx, opts.expires, image), 'X-Cache', outcome];
  // imgproxy's ETAG_BUSTER re-keys every ETag a client holds; ours are content-derived.
  const etag = dl.etagBuster ? `"${dl.etagBuster}/${image.etag.replace(/"/g, '')}"` : image.etag;
  if (dl.useEtag) headers.push('ETag', etag);
  if (dl.useLastModified && image.originLastModified) headers.push('Last-Modified', image.originLastModified);
  if (dl.setCanonicalHeader && /^https?:\/\//i.test(request.source)) headers.push('Link', `<${request.source}>; rel="canonical"`);
  if (ctx.vary) headers.push('Vary', ctx.vary);
  if (cfg.server.enableDebugHeaders) {
    if (image.originWidth !== undefined) headers.push('X-Origin-Width', image.originWidth);
    if (image.originHeight !== undefined) headers.push('X-Origin-Height', image.originHeight);
    if (image.originSize !== undefined) headers.push('X-Origin-Content-Length', image.originSize);
    headers.push('X-Result-Width', image.width, 'X-Result-Height', image.height);
  }
  if (dl.useEtag && ifNoneMatchHits(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers.map(String));
    res.end();
    return;
  }
  headers.push('Content-Type', image.contentType, 'Content-Length', image.data.length, 'Content-Disposition', dispositionFor(request, image));
  res.writeHead(200, headers.map(String));
  res.end(req.method === 'HEAD' ? undefined : image.data);
}

/**
 * imgproxy's priority: an `expires` cap first; then, with IMGPROXY_CACHE_CONTROL_PASSTHROUGH,
 * the origin's Cache-Control (or its Expires as a max-age); then IMGPROXY_TTL.
 */
function cacheControlFor(ctx: AppContext, expires: number, image: CachedImage): string {
  if (expires !== 0) return cacheControl(ctx.config.processing.ttl, expires);
  if (ctx.config.download.cacheControlPassthrough) {
    if (image.originCacheControl) return image.originCacheControl;
    if (image.originExpires) {
      const at = Date.parse(image.originExpires);
      if (Number.isFinite(at)) return at > Date.now() ? `max-age=${Math.floor((at - Date.now()) / 1000)}, public` : 'no-cache';
    }
  }
  return ctx.cacheControl;
}

/**
 * `raw`: the source's bytes untouched, not limited by workers. The client's Range and
 * conditional headers go to the source; its status (200, 206, 304) and range/validator
 * headers come back. The Content-Type is the sniffed one whenever the bytes start at 0
 * (the origin's may lie); a part from the middle of the file keeps the origin's type only
 * if it is an image type. We never echo a foreign type: what we cannot call an image is 422.
 *
 * The body is streamed: only the head needed to sniff the type is buffered, the rest is piped
 * with backpressure. A client that goes away destroys the upstream; an upstream error after
 * the headers went out destroys the response (the client sees a cut transfer, never a hang).
 */
async function streamRaw(ctx: AppContext, req: IncomingMessage, request: ImageRequest, res: ServerResponse, log: RequestLog): Promise<void> {
  // Aborted when the client goes away before its answer is complete: stops the source
  // whether it is still connecting, being sniffed or streaming.
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort(new ProxyError('CANCELLED', 'the client went away during a raw transfer'));
  });
  const fo: FetchOptions = { maxBytes: request.options.maxSrcFileSize, signal: gone.signal };
  const ifNoneMatch = headerValue(req.headers['if-none-match']);
  const ifModifiedSince = headerValue(req.headers['if-modified-since']);
  const range = headerValue(req.headers.range);
  if (ifNoneMatch !== undefined) fo.ifNoneMatch = ifNoneMatch;
  if (ifModifiedSince !== undefined) fo.ifModifiedSince = ifModifiedSince;
  if (range !== undefined) fo.range = range;
  const upstream = await ctx.sources.stream(request.source, fo);
  const body = upstream.body;
  // pipeline and readHead see the body's errors through their own listeners; this one only
  // keeps an error emitted between them from becoming an uncaught exception.
  body.on('error', () => undefined);
  let sent = false;
  try {
    log.cache = 'RAW';
    const headers: Record<string, string | number> = {
      ...SECURITY_HEADERS,
      'Cache-Control': cacheControl(ctx.config.processing.ttl, request.options.expires),
    };
    if (upstream.etag) headers.ETag = upstream.etag;
    if (upstream.lastModified) headers['Last-Modified'] = upstream.lastModified;
    if (upstream.acceptRanges) headers['Accept-Ranges'] = upstream.acceptRanges;
    if (upstream.status === 304) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const fromStart = upstream.status === 200 || parseContentRange(upstream.contentRange)?.start === 0;
    const { head, ended } = fromStart ? await readHead(body) : { head: null, ended: false };
    const contentType = rawContentType(upstream, head);
    if (contentType === null) throw new ProxyError('INVALID_IMAGE', 'raw source type could not be detected');
    headers['Content-Type'] = contentType;
    headers['Content-Disposition'] = rawContentDisposition(request.options.filename, request.source, contentType, request.options.returnAttachment);
    if (upstream.contentLength !== undefined) headers['Content-Length'] = upstream.contentLength;
    if (upstream.status === 206 && upstream.contentRange) headers['Content-Range'] = upstream.contentRange;
    res.writeHead(upstream.status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (head !== null && head.length > 0) res.write(head);
    if (ended) {
      res.end();
      return;
    }
    sent = true;
    try {
      await pipeline(body, res);
    } catch (err) {
      // pipeline has destroyed both sides. A client that left is no error of ours.
      if (gone.signal.aborted) return;
      throw err;
    }
  } finally {
    if (!sent && !body.destroyed) body.destroy();
  }
}

/**
 * Reads whole chunks off the body until detectImageFormat has seen enough: a signature found
 * in at least the first 256 bytes (what an ISO-BMFF brand list needs), SVG_SCAN_LIMIT bytes
 * (how far it looks for `<svg`), or the end. Leaves the body paused for the pipe.
 */
function readHead(body: Readable): Promise<{ head: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    // Torn down already (the client left, the deadline fired): its 'close' will not come again.
    if (body.destroyed) {
      reject(body.errored ?? new ProxyError('UNSUPPORTED_IMAGE', 'source body closed before its end'));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    const done = (ended: boolean): void => {
      cleanup();
      if (!ended) body.pause();
      resolve({ head: Buffer.concat(chunks, length), ended });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= SVG_SCAN_LIMIT) return done(false);
      if (length >= 256 && detectImageFormat(Buffer.concat(chunks, length)) !== null) done(false);
    };
    const onEnd = (): void => done(true);
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new ProxyError('UNSUPPORTED_IMAGE', 'source body closed before its end'));
    };
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** `head`: the first bytes of the body when it starts at byte 0, else null. */
function rawContentType(response: Omit<SourceStream, 'body'>, head: Buffer | null): string | null {
  const sniffed = head !== null ? detectImageFormat(head) : null;
  if (sniffed !== null) return MIME_TYPES[sniffed];
  // The whole file that is not an image stays not an image, whatever the origin calls it.
  if (response.status === 200) return null;
  const origin = response.contentType?.trim();
  return origin !== undefined && /^image\/[\w.+-]+(\s*;.*)?$/i.test(origin) ? origin : null;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProxyError('TIMEOUT', `request exceeded IMGPROXY_TIMEOUT (${ms} ms)`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

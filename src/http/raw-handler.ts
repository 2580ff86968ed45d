/**
 * `raw`: the source's bytes untouched, not limited by workers. The client's Range,
 * conditional headers and Accept-Encoding go to the source, with its cookies under
 * IMGPROXY_COOKIE_PASSTHROUGH (imgproxy's handlers/stream/handler.go,
 * https://github.com/imgproxy/imgproxy/blob/master/handlers/stream/handler.go); its status
 * (200, 206, 304) and range/validator headers come back, with imgproxy's Cache-Control
 * (IMGPROXY_CACHE_CONTROL_PASSTHROUGH included), Content-Disposition and canonical Link. A
 * compressed body is decoded (its type must be sniffed), so it is served as identity. The Content-Type is the sniffed one whenever the bytes start at 0
 * (the origin's may lie); a part from the middle of the file keeps the origin's type only
 * if it is an image type. We never echo a foreign type: what we cannot call an image is 422.
 *
 * The body is streamed: only the head needed to sniff the type is buffered, the rest is piped
 * with backpressure. A client that goes away destroys the upstream; an upstream error after
 * the headers went out destroys the response (the client sees a cut transfer, never a hang).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import { MIME_TYPES } from '../formats.js';
import type { ImageRequest } from '../request.js';
import { detectImageFormat, SVG_SCAN_LIMIT } from '../sources/detect.js';
import type { Sources } from '../sources/index.js';
import { parseContentRange } from '../sources/range.js';
import type { FetchOptions, SourceStream } from '../sources/types.js';
import { clientSignal } from './client-signal.js';
import { canonicalLink, rawContentDisposition, resultCacheControl, SECURITY_HEADERS } from './headers.js';
import type { RequestLog } from './request-log.js';

export type RawHandler = (req: IncomingMessage, res: ServerResponse, request: ImageRequest, log: RequestLog) => Promise<void>;

export interface RawHandlerDeps {
  readonly sources: Pick<Sources, 'stream'>;
  readonly config: Pick<Config, 'processing' | 'download'>;
}

/**
 * The codings we can undo (sources/content-encoding.ts): a client's Accept-Encoding is
 * forwarded with these only, since the body is decoded here to be sniffed.
 */
const DECODABLE = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'identity']);

/** `gzip;q=0.8, zstd, *` → `gzip;q=0.8`; undefined when nothing is left. */
export function forwardedAcceptEncoding(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const kept = header.split(',').map((t) => t.trim()).filter((t) => DECODABLE.has((t.split(';')[0] ?? '').trim().toLowerCase()));
  return kept.length > 0 ? kept.join(', ') : undefined;
}

export function createRawHandler(deps: RawHandlerDeps): RawHandler {
  const ttl = deps.config.processing.ttl;
  const dl = deps.config.download;
  return async (req, res, request, log) => {
    // Aborted when the client goes away before its answer is complete: stops the source
    // whether it is still connecting, being sniffed or streaming.
    const gone = clientSignal(res, 'the client went away during a raw transfer');
    const fo: FetchOptions = { maxBytes: request.options.maxSrcFileSize, signal: gone };
    // imgproxy's stream handler forwards these four (handlers/stream/config.go).
    const ifNoneMatch = headerValue(req.headers['if-none-match']);
    const ifModifiedSince = headerValue(req.headers['if-modified-since']);
    const range = headerValue(req.headers.range);
    const acceptEncoding = forwardedAcceptEncoding(headerValue(req.headers['accept-encoding']));
    if (ifNoneMatch !== undefined) fo.ifNoneMatch = ifNoneMatch;
    if (ifModifiedSince !== undefined) fo.ifModifiedSince = ifModifiedSince;
    if (range !== undefined) fo.range = range;
    if (acceptEncoding !== undefined) fo.acceptEncoding = acceptEncoding;
    if (request.originCookie !== undefined) fo.cookie = request.originCookie;
    const upstream = await deps.sources.stream(request.source, fo);
    const body = upstream.body;
    // pipeline and readHead see the body's errors through their own listeners; this one only
    // keeps an error emitted between them from becoming an uncaught exception.
    body.on('error', () => undefined);
    let sent = false;
    try {
      log.cache = 'RAW';
      const headers: Record<string, string | number> = {
        ...SECURITY_HEADERS,
        'Cache-Control': resultCacheControl({
          ttl,
          expiresUnix: request.options.expires,
          passthrough: dl.cacheControlPassthrough,
          origin: { cacheControl: upstream.headers['cache-control'], expires: upstream.headers.expires },
        }),
      };
      if (upstream.etag) headers.ETag = upstream.etag;
      if (upstream.lastModified) headers['Last-Modified'] = upstream.lastModified;
      if (upstream.acceptRanges) headers['Accept-Ranges'] = upstream.acceptRanges;
      const link = request.sourceHidden ? undefined : canonicalLink(dl.setCanonicalHeader, request.source);
      if (link !== undefined) headers.Link = link;
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
      headers['Content-Disposition'] = rawContentDisposition(request.options.filename, request.sourceHidden ? '' : request.source, contentType, request.options.returnAttachment);
      if (upstream.contentLength !== undefined) headers['Content-Length'] = upstream.contentLength;
      if (upstream.status === 206 && upstream.contentRange) headers['Content-Range'] = upstream.contentRange;
      // HEAD never gets here: the router answers it before any handler runs.
      res.writeHead(upstream.status, headers);
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
        if (gone.aborted) return;
        throw err;
      }
    } finally {
      if (!sent && !body.destroyed) body.destroy();
    }
  };
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

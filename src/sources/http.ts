/**
 * The http:// and https:// source, on undici.
 *
 * Security shape: every connection goes through the SSRF-guarded connector (ssrf-guard.ts);
 * redirects are followed by hand so each hop is re-checked against IMGPROXY_ALLOWED_SOURCES
 * and limited to http/https (undici's own redirect handling would check nothing); the whole
 * download, redirects included, runs under one signal (IMGPROXY_DOWNLOAD_TIMEOUT or the
 * caller's cancel, deadline.ts) that undici honours in every phase by destroying the socket;
 * the body is capped on Content-Length and again while it streams, on its decoded bytes
 * (content-encoding.ts), so neither a lying or absent length nor a compression bomb can make
 * us buffer more than the limit. Every failure leaves as a ProxyError with a 4xx/5xx status.
 */
import type { Readable } from 'node:stream';
import { Agent, errors as undiciErrors } from 'undici';
import type { Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import { isSourceAllowed } from '../security/allowed-sources.js';
import { createGuardedConnector, type Resolver } from '../security/ssrf-guard.js';
import { decodeContentEncoding } from './content-encoding.js';
import { deadline, downloadDeadline, type Deadline } from './deadline.js';
import { parseContentRange } from './range.js';
import { guardSocketEnd } from '../net/socket-end-guard.js';
import { VERSION } from '../version.js';
import { bodyFailure, bufferStream, collect, guarded, type GuardOptions } from './stream.js';
import type { FetchOptions, Source, SourceResponse, SourceStream } from './types.js';

export interface HttpSourceOptions {
  /** DNS resolver for the guarded lookup; tests only (defaults to dns.lookup). */
  resolve?: Resolver;
}

export interface HttpSource extends Source {
  stream(url: string, opts: FetchOptions): Promise<SourceStream>;
  /** Closes pooled keep-alive connections. */
  close(): Promise<void>;
}

/** Response headers the origin sub-store and the TTL policy need. */
const CACHING_HEADERS = ['cache-control', 'expires', 'age', 'date', 'etag', 'last-modified', 'content-type', 'vary'] as const;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

type HeaderValue = string | string[] | undefined;

function headerString(v: HeaderValue): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function pickHeaders(raw: Record<string, HeaderValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of CACHING_HEADERS) {
    const v = headerString(raw[name]);
    if (v !== undefined) out[name] = v;
  }
  return out;
}

function toResponse(status: 200 | 206 | 304, body: Buffer, headers: Record<string, string>, raw: Record<string, HeaderValue> = {}): SourceResponse {
  return { ...toMeta(status, headers, raw), body };
}

function toMeta(status: 200 | 206 | 304, headers: Record<string, string>, raw: Record<string, HeaderValue>): Omit<SourceResponse, 'body'> {
  const res: Omit<SourceResponse, 'body'> = { status, headers };
  const contentRange = headerString(raw['content-range']);
  const acceptRanges = headerString(raw['accept-ranges']);
  if (status === 206 && contentRange !== undefined) res.contentRange = contentRange;
  if (acceptRanges !== undefined) res.acceptRanges = acceptRanges;
  if (headers['content-type'] !== undefined) res.contentType = headers['content-type'];
  if (headers.etag !== undefined) res.etag = headers.etag;
  if (headers['last-modified'] !== undefined) res.lastModified = headers['last-modified'];
  return res;
}

/**
 * Drops a response body we will not read. undici's body emits an AbortError when destroyed,
 * so it gets a listener first; otherwise that error would surface as an uncaught exception.
 */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

/** How long a redirect's or an error's body may take to drain before its connection is dropped instead. */
const DRAIN_MS = 1000;

/**
 * Drains a small body (redirects, errors) so the keep-alive connection can be reused. Past
 * 64 KiB or DRAIN_MS, or when the download is cancelled meanwhile, the body is destroyed (and
 * its connection closed) instead: a redirect that drips its body cannot hold the download.
 */
async function drain(body: Readable & { dump(opts?: { limit?: number; signal?: AbortSignal }): Promise<void> }, signal: AbortSignal): Promise<void> {
  const stop = deadline(DRAIN_MS, signal, () => new ProxyError('SOURCE_TIMEOUT', 'body not drained in time'), () => new ProxyError('CANCELLED', 'download cancelled while draining'));
  try {
    await body.dump({ limit: 64 * 1024, signal: stop.signal });
  } catch {
    discard(body);
  } finally {
    stop.release();
  }
  signal.throwIfAborted();
}

function findProxyError(err: unknown): ProxyError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof ProxyError) return e;
  }
  return undefined;
}

function isTimeoutError(err: unknown): boolean {
  return (
    err instanceof undiciErrors.ConnectTimeoutError || err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError
  );
}

/** Go's canonical host for cookies: lower-case, no port, no brackets. */
function cookieHost(u: URL): string {
  return u.hostname.toLowerCase().replace(/^\[|\]$/g, '');
}

/**
 * Whether the client's cookies follow a redirect from `first` to `next`: to the same host or a
 * subdomain of it, as Go's client forwards a Cookie header on redirects (net/http
 * shouldCopyHeaderOnRedirect).
 */
function cookiesFollow(first: URL, next: URL): boolean {
  const a = cookieHost(first);
  const b = cookieHost(next);
  return a === b || b.endsWith(`.${a}`);
}

/**
 * A 206 nobody asked for, accepted when it holds the whole file (imgproxy's
 * checkPartialContentResponse in fetcher/request.go): `bytes 0-<n-1>/<n>`, or `bytes 0-<n-1>/*`
 * with a Content-Length of n. Returns the length, or null.
 */
export function wholeContentRange(contentRange: string | undefined, contentLength: string | undefined): number | null {
  const m = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(contentRange ?? '');
  if (!m || m[1] !== '0') return null;
  const total = Number(m[3] === '*' ? (contentLength ?? '') : m[3]);
  return Number.isSafeInteger(total) && total > 0 && Number(m[2]) === total - 1 ? total : null;
}

export function createHttpSource(config: Config, opts: HttpSourceOptions = {}): HttpSource {
  const d = config.download;
  const userAgent = d.userAgent.replaceAll('%current_version', VERSION);
  // The connect timeout bounds a connection whichever dialect asks; each download's own
  // deadline (download() below) is the request's.
  const timeoutMs = Math.max(d.downloadTimeout, config.previewproxy.fetchTimeout) * 1000;
  const keepAliveMs = d.clientKeepAliveTimeout * 1000;
  const guardedConnect = createGuardedConnector(config.security, {
    timeout: timeoutMs,
    rejectUnauthorized: !d.ignoreSslVerification,
    ...(opts.resolve ? { resolve: opts.resolve } : {}),
  });
  const agent = new Agent({
    connect: (options, callback) => {
      guardedConnect(options, (err, socket) => {
        if (socket) callback(null, guardSocketEnd(socket));
        else callback(err ?? new Error('connect failed'), null);
      });
    },
    // 0 disables keep-alive: requests then go out with `reset: true` (Connection: close).
    ...(keepAliveMs > 0 ? { keepAliveTimeout: keepAliveMs, keepAliveMaxTimeout: keepAliveMs } : {}),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  function checkUrl(raw: string, hop: number): URL {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new ProxyError('INVALID_SOURCE_URL', `not a valid URL: ${JSON.stringify(raw)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') {
      // After hop 0 this is a redirect to file:, gopher:, local: … which we never follow.
      throw new ProxyError('SOURCE_UNREACHABLE', hop === 0 ? `not an http(s) URL: ${raw}` : `redirect to ${u.protocol} is not followed (hop ${hop}): ${raw}`);
    }
    if (!isSourceAllowed(u.href, config)) {
      throw new ProxyError('INVALID_SOURCE_URL', hop === 0 ? `source not allowed by IMGPROXY_ALLOWED_SOURCES: ${raw}` : `redirect (hop ${hop}) to a source not allowed by IMGPROXY_ALLOWED_SOURCES: ${u.href}`);
    }
    return u;
  }

  /**
   * An answer whose headers are in: redirects followed, status mapped, the size checked on
   * Content-Length / Content-Range. A 304's body is already drained (`body` null); a 200/206
   * body is unread, its Content-Encoding already wrapped around it.
   */
  interface Opened {
    status: 200 | 206 | 304;
    picked: Record<string, string>;
    raw: Record<string, HeaderValue>;
    href: string;
    body: {
      /** undici's body, what holds the connection. */
      upstream: Readable;
      /** `upstream` decoded (the same stream when it had no Content-Encoding). */
      decoded: Readable;
      /** Bytes `decoded` will carry when known: the Content-Length of an unencoded body. */
      expected: number | undefined;
    } | null;
  }

  /** How a body is guarded: the size limit on its decoded bytes, its announced length, its failures. */
  function guardOf(o: Opened, fo: FetchOptions, dl: Download): GuardOptions {
    return {
      maxBytes: fo.maxBytes,
      expected: o.body?.expected,
      url: o.href,
      mapError: (err, bytes) => bodyFailure(dl.mapError(err), err, bytes, o.href),
    };
  }

  async function open(url: string, fo: FetchOptions, signal: AbortSignal): Promise<Opened> {
    const conditional = fo.ifNoneMatch !== undefined || fo.ifModifiedSince !== undefined;
    let current = url;
    let first: URL | undefined;
    for (let hop = 0; ; hop++) {
      const u = checkUrl(current, hop);
      first ??= u;
      // undici would still open a connection for a request whose signal is already aborted.
      signal.throwIfAborted();
      const headers: Record<string, string> = { 'user-agent': userAgent };
      if (fo.ifNoneMatch !== undefined) headers['if-none-match'] = fo.ifNoneMatch;
      if (fo.ifModifiedSince !== undefined) headers['if-modified-since'] = fo.ifModifiedSince;
      if (fo.range !== undefined) headers.range = fo.range;
      if (fo.acceptEncoding !== undefined) headers['accept-encoding'] = fo.acceptEncoding;
      if (fo.cookie !== undefined && cookiesFollow(first, u)) headers.cookie = fo.cookie;
      if (u.username || u.password) {
        headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      }
      const res = await agent.request({
        origin: u.origin,
        path: `${u.pathname}${u.search}`,
        method: 'GET',
        headers,
        signal,
        reset: keepAliveMs === 0,
      });
      const status = res.statusCode;

      if (REDIRECT_STATUSES.has(status)) {
        await drain(res.body, signal);
        const location = headerString(res.headers.location);
        if (!location) throw new ProxyError('SOURCE_UNREACHABLE', `redirect ${status} without Location from ${u.href}`);
        if (hop >= d.maxRedirects) throw new ProxyError('SOURCE_REDIRECTS', `too many redirects (IMGPROXY_MAX_REDIRECTS=${d.maxRedirects}) at ${u.href}`);
        try {
          current = new URL(location, u).href;
        } catch {
          throw new ProxyError('SOURCE_UNREACHABLE', `invalid redirect Location ${JSON.stringify(location)} from ${u.href}`);
        }
        continue;
      }

      const picked = pickHeaders(res.headers);
      // A 206 only counts as one when we asked for a range; it must say which part it is.
      const partial = status === 206 && fo.range !== undefined;
      // One we did not ask for is the whole file or nothing.
      const whole = status === 206 && !partial && wholeContentRange(headerString(res.headers['content-range']), headerString(res.headers['content-length'])) !== null;
      if (status === 206 && !partial && !whole) {
        discard(res.body);
        throw new ProxyError('SOURCE_UNREACHABLE', `origin answered 206 with incomplete content (Content-Range ${JSON.stringify(headerString(res.headers['content-range']) ?? '')}): ${u.href}`);
      }
      if (partial) {
        const cr = parseContentRange(headerString(res.headers['content-range']));
        if (cr === null) {
          discard(res.body);
          throw new ProxyError('SOURCE_BAD_GATEWAY', `origin answered 206 without a valid Content-Range: ${u.href}`);
        }
        if (fo.maxBytes > 0 && cr.size !== undefined && cr.size > fo.maxBytes) {
          discard(res.body);
          throw new ProxyError('SOURCE_TOO_BIG', `source is ${cr.size} bytes (Content-Range), over ${fo.maxBytes}: ${u.href}`);
        }
      }
      if (status === 200 || partial || whole) {
        const lengthHeader = headerString(res.headers['content-length']);
        const declared = lengthHeader !== undefined && /^\d+$/.test(lengthHeader.trim()) ? Number(lengthHeader) : undefined;
        if (fo.maxBytes > 0 && declared !== undefined && declared > fo.maxBytes) {
          discard(res.body);
          throw new ProxyError('SOURCE_TOO_BIG', `source Content-Length ${declared} exceeds ${fo.maxBytes} bytes: ${u.href}`);
        }
        const dec = decodeContentEncoding(res.body, headerString(res.headers['content-encoding']), u.href);
        // A decoded body's length is not the Content-Length.
        const expected = dec.decoded ? undefined : declared;
        return { status: partial ? 206 : 200, picked, raw: res.headers, body: { upstream: res.body, decoded: dec.body, expected }, href: u.href };
      }
      await drain(res.body, signal);
      if (status === 304 && conditional) return { status: 304, picked, raw: res.headers, body: null, href: u.href };
      if (status >= 400 && status < 500) throw new ProxyError('SOURCE_CLIENT_ERROR', `origin answered ${status}: ${u.href}`, { status });
      if (status >= 500) throw new ProxyError('SOURCE_BAD_GATEWAY', `origin answered ${status}: ${u.href}`);
      throw new ProxyError('SOURCE_UNREACHABLE', `origin answered unexpected status ${status}: ${u.href}`);
    }
  }

  /** The download's deadline, and how any failure maps to a ProxyError: the deadline's own reason first. */
  interface Download extends Deadline {
    mapError(err: unknown): ProxyError;
  }

  function download(url: string, fo: FetchOptions): Download {
    const dl = downloadDeadline(url, fo.timeoutSeconds ?? d.downloadTimeout, fo.signal);
    return {
      ...dl,
      mapError(err) {
        const pe = dl.reason() ?? findProxyError(err);
        if (pe) return pe;
        if (isTimeoutError(err)) return new ProxyError('SOURCE_TIMEOUT', `source timed out: ${url}: ${(err as Error).message}`, { cause: err });
        return new ProxyError('SOURCE_CONNECTION', `source unreachable: ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      },
    };
  }

  async function fetchUrl(url: string, fo: FetchOptions): Promise<SourceResponse> {
    const dl = download(url, fo);
    try {
      const o = await open(url, fo, dl.signal);
      const body = o.body === null ? Buffer.alloc(0) : await collect(o.body.decoded, { ...guardOf(o, fo, dl), signal: dl.signal });
      return toResponse(o.status, body, o.picked, o.raw);
    } catch (err) {
      throw dl.mapError(err);
    } finally {
      dl.release();
    }
  }

  /**
   * The streaming variant: everything up to the headers as in fetchUrl, then the body as a
   * guarded stream. As with a buffered fetch (and imgproxy's raw streaming) the deadline covers
   * the whole transfer, so a slow reader cannot hold an upstream connection past it; it and
   * the caller's cancel destroy the body, which closes the upstream connection.
   */
  async function streamUrl(url: string, fo: FetchOptions): Promise<SourceStream> {
    const dl = download(url, fo);
    let o: Opened;
    try {
      o = await open(url, fo, dl.signal);
    } catch (err) {
      dl.release();
      throw dl.mapError(err);
    }
    const meta = toMeta(o.status, o.picked, o.raw);
    if (o.body === null) {
      dl.release();
      return { ...meta, body: bufferStream(Buffer.alloc(0)), contentLength: 0 };
    }
    const { upstream, decoded, expected } = o.body;
    const body = guarded(decoded, guardOf(o, fo, dl));
    body.once('close', () => {
      dl.release();
      // The decoders (if any) may be torn down before undici's body: make sure it goes too.
      if (!upstream.destroyed) discard(upstream);
    });
    const res: SourceStream = { ...meta, body };
    if (expected !== undefined) res.contentLength = expected;
    return res;
  }

  return {
    schemes: ['http', 'https'],
    fetch: fetchUrl,
    stream: streamUrl,
    close: () => agent.close(),
  };
}

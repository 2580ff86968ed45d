import type { Readable } from 'node:stream';

/**
 * What every source (http, local, s3, gs, abs, swift) returns: the whole body (images are
 * decoded from memory) plus the validators and caching headers the origin sub-store needs.
 *
 * `range` is only ever sent by the `raw` option's pass-through; a source that does not
 * support ranges ignores it and answers 200 with the whole body, which HTTP allows.
 */

export interface SourceResponse {
  /**
   * 200 with a body, 206 with the part a `range` asked for (`contentRange` set), or 304
   * when a conditional request matched (empty body).
   */
  status: 200 | 206 | 304;
  body: Buffer;
  /** 206 only: `bytes first-last/complete` as the origin (or the local source) sent it. */
  contentRange?: string;
  /** `bytes` when the source serves ranges (origin's Accept-Ranges, or local). */
  acceptRanges?: string;
  /** Origin's Content-Type, informational only: the type is sniffed from magic bytes. */
  contentType?: string;
  etag?: string;
  lastModified?: string;
  /** Response headers relevant to caching (cache-control, expires, age, date, …), lower-case names. */
  headers: Record<string, string>;
  /** Unix ms until which the bytes are fresh, when the origin sub-store knows (cache/origin.ts). */
  freshUntil?: number;
  /** Set by the cache: the origin failed and these are its stale bytes (RFC 5861 stale-if-error). */
  staleIfError?: boolean;
}

/**
 * What `Source.stream` returns (raw pass-through): the same status, validators and headers as
 * a SourceResponse, with the body as a stream instead of a buffer. The body is already capped
 * at `maxBytes` (it errors with SOURCE_TOO_BIG past it) and errors when it ends short of the
 * length announced; whoever takes it must consume or destroy it (destroying it releases the
 * upstream connection or file). A 304's body is empty.
 */
export interface SourceStream extends Omit<SourceResponse, 'body'> {
  body: Readable;
  /** Bytes the body will carry, when known up front (Content-Length, file size, buffered body). */
  contentLength?: number;
}

export interface FetchOptions {
  signal?: AbortSignal;
  /**
   * Bytes; 0 = unlimited. Enforced on Content-Length and while reading; for a 206 also on
   * the complete length its Content-Range declares (the limit is about the source file).
   */
  maxBytes: number;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  /** A client's `Range` header value, forwarded as is (raw pass-through only). */
  range?: string;
  /**
   * `Cookie` header for http(s) sources (IMGPROXY_COOKIE_PASSTHROUGH): sent to the source and
   * to redirects on its host or a subdomain of it, as Go's client forwards it.
   */
  cookie?: string;
  /** A client's `Accept-Encoding`, forwarded to http(s) sources (raw pass-through only). */
  acceptEncoding?: string;
  /** Seconds the download may take, redirects included (absent: IMGPROXY_DOWNLOAD_TIMEOUT); the request's dialect sets it. */
  timeoutSeconds?: number;
}

export interface Source {
  /** Schemes this source serves, without `:` (e.g. `http`, `https`). */
  readonly schemes: readonly string[];
  fetch(url: string, opts: FetchOptions): Promise<SourceResponse>;
  /**
   * Optional streaming variant of `fetch` (same checks, same errors before the body starts).
   * Sources without it are streamed by `Sources.stream` from a buffered `fetch`.
   */
  stream?(url: string, opts: FetchOptions): Promise<SourceStream>;
}

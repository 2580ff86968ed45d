/**
 * What every source (http, local, s3, gs, abs, swift) returns: the whole body (images are
 * decoded from memory) plus the validators and caching headers the origin sub-store needs.
 */

export interface SourceResponse {
  /** 200 with a body, or 304 when a conditional request matched (empty body). */
  status: 200 | 304;
  body: Buffer;
  /** Origin's Content-Type, informational only: the type is sniffed from magic bytes. */
  contentType?: string;
  etag?: string;
  lastModified?: string;
  /** Response headers relevant to caching (cache-control, expires, age, date, …), lower-case names. */
  headers: Record<string, string>;
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** Bytes; 0 = unlimited. Enforced on Content-Length and while reading. */
  maxBytes: number;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
}

export interface Source {
  /** Schemes this source serves, without `:` (e.g. `http`, `https`). */
  readonly schemes: readonly string[];
  fetch(url: string, opts: FetchOptions): Promise<SourceResponse>;
}

/**
 * Response header rules for processed images (imgproxy §7.3), kept pure so they are unit
 * tested without a server: Cache-Control with the `expires` cap, Content-Disposition,
 * conditional-request matching.
 */
import type { OutputFormat } from '../options.js';

/** Sent on every response: images must never run as documents (imgproxy's CSP). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox",
  'X-Content-Type-Options': 'nosniff',
};

/**
 * `max-age=<ttl>, public` (imgproxy's token order), capped by the `expires` option;
 * TTL 0 → `no-cache` (imgproxy #1195).
 */
export function cacheControl(ttlSeconds: number, expiresUnix: number, nowMs = Date.now()): string {
  let ttl = ttlSeconds;
  if (expiresUnix > 0) ttl = Math.min(ttl === 0 ? Infinity : ttl, Math.max(0, Math.floor(expiresUnix - nowMs / 1000)));
  if (ttl === 0 || !Number.isFinite(ttl)) return 'no-cache';
  return `max-age=${ttl}, public`;
}

const EXTENSIONS: Readonly<Record<OutputFormat, string>> = {
  jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif', gif: 'gif', tiff: 'tiff', svg: 'svg', jxl: 'jxl', bmp: 'bmp', ico: 'ico', heic: 'heic',
};

/** Filename stem from the `filename` option, else the source URL's basename, else `image`. */
export function contentDisposition(filename: string, source: string, format: OutputFormat, attachment: boolean): string {
  let stem = filename;
  if (stem === '') {
    let path = source;
    try {
      path = new URL(source).pathname;
    } catch {
      // not a URL we can parse: use the raw string
    }
    const base = path.split('/').pop() ?? '';
    let decoded = base;
    try {
      decoded = decodeURIComponent(base);
    } catch {
      // keep the raw basename
    }
    const dot = decoded.lastIndexOf('.');
    stem = dot > 0 ? decoded.slice(0, dot) : decoded;
  }
  if (stem === '') stem = 'image';
  const safe = stem.replace(/["\\\r\n]/g, (c) => (c === '"' ? '%22' : '')).slice(0, 200);
  return `${attachment ? 'attachment' : 'inline'}; filename="${safe}.${EXTENSIONS[format]}"`;
}

/** RFC 9110 §13.1.2: weak comparison of an If-None-Match list against our ETag. */
export function ifNoneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  const ours = etag.replace(/^W\//, '');
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === ours);
}

const REQUEST_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Keeps a well-formed incoming X-Request-ID (imgproxy's rule), else makes one. */
export function requestId(incoming: string | string[] | undefined, make: () => string): string {
  const v = Array.isArray(incoming) ? incoming[0] : incoming;
  return v !== undefined && REQUEST_ID.test(v) ? v : make();
}

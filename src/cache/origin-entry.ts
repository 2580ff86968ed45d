/**
 * The origin sub-store's entry format: a source response as a BlobStore entry (the body; its
 * media type and validators in the meta; the URL, freshness, response headers and the
 * origin's own validators in `extra`) and back. An entry whose URL is not the one asked for,
 * or that does not decode, is refused, never served.
 */
import type { SourceResponse } from '../sources/types.js';
import type { BlobMeta, PutMeta } from '../storage/types.js';

/** A stored source, read back (or about to be written). */
export interface OriginEntry {
  body: Buffer;
  meta: BlobMeta;
  freshUntil: number;
  headers: Record<string, string>;
}

/**
 * What `store.put` writes for a response fresh until `freshUntil` and kept until `expiresAt`,
 * and the entry it reads back as. The origin's validators go in `extra.validators` too (see
 * originValidators).
 */
export function encodeEntry(url: string, res: SourceResponse, freshUntil: number, expiresAt: number, now: number): { putMeta: PutMeta; entry: OriginEntry } {
  const validators = { ...(res.etag !== undefined ? { etag: res.etag } : {}), ...(res.lastModified !== undefined ? { lastModified: res.lastModified } : {}) };
  const extra: Record<string, string> = { url, freshUntil: String(freshUntil), headers: JSON.stringify(res.headers), validators: JSON.stringify(validators) };
  const putMeta = {
    expiresAt,
    extra,
    ...(res.contentType !== undefined ? { contentType: res.contentType } : {}),
    ...validators,
  };
  return { putMeta, entry: { body: res.body, meta: { ...putMeta, size: res.body.length, createdAt: now }, freshUntil, headers: res.headers } };
}

/**
 * The origin's own validators travel in `extra.validators`: a store's `meta.etag` and
 * `meta.lastModified` may be the store's own (object stores, fs) when the origin sent none,
 * and those must never be sent upstream as If-None-Match / If-Modified-Since. Entries
 * written before `validators` existed fall back to meta, where the fs store kept exactly the
 * origin's.
 */
function originValidators(meta: BlobMeta): Pick<BlobMeta, 'etag' | 'lastModified'> | null {
  const raw = meta.extra?.validators;
  if (raw === undefined) {
    return { ...(meta.etag !== undefined ? { etag: meta.etag } : {}), ...(meta.lastModified !== undefined ? { lastModified: meta.lastModified } : {}) };
  }
  try {
    const v = JSON.parse(raw) as { etag?: unknown; lastModified?: unknown };
    return { ...(typeof v.etag === 'string' ? { etag: v.etag } : {}), ...(typeof v.lastModified === 'string' ? { lastModified: v.lastModified } : {}) };
  } catch {
    return null;
  }
}

/** A stored entry as a source, or null when it is another URL's or does not decode (never served). */
export function decodeEntry(stored: BlobMeta, body: Buffer, url: string): OriginEntry | null {
  const x = stored.extra;
  if (!x || x.url !== url) return null;
  const freshUntil = Number(x.freshUntil);
  if (!Number.isFinite(freshUntil)) return null;
  let headers: Record<string, string>;
  try {
    headers = JSON.parse(x.headers ?? '{}') as Record<string, string>;
  } catch {
    return null;
  }
  const validators = originValidators(stored);
  if (validators === null) return null;
  const { etag: _etag, lastModified: _lastModified, ...rest } = stored;
  return { body, meta: { ...rest, ...validators }, freshUntil, headers };
}

export function entryResponse(c: OriginEntry, headers = c.headers, etag = c.meta.etag, lastModified = c.meta.lastModified): SourceResponse {
  return {
    status: 200,
    body: c.body,
    headers,
    ...(c.meta.contentType !== undefined ? { contentType: c.meta.contentType } : {}),
    ...(etag !== undefined ? { etag } : {}),
    ...(lastModified !== undefined ? { lastModified } : {}),
  };
}

/** Headers a 304 may not overwrite in the stored response (they describe its body). */
const BODY_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'content-range']);

/** RFC 9111 §4.3.4: a stored response's headers updated from a 304 (its body is reused). */
export function mergeHeaders(stored: Record<string, string>, fresh: Record<string, string>): Record<string, string> {
  const out = { ...stored };
  for (const [k, v] of Object.entries(fresh)) if (!BODY_HEADERS.has(k)) out[k] = v;
  return out;
}

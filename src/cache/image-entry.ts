/**
 * A cached result (CachedImage) and how it is stored: its metadata as the string map every
 * backend keeps with the bytes (fs header, object metadata), and back. An entry that does not
 * decode (another version, a foreign object) is a miss.
 *
 * Besides what a response needs (format, sizes, ETag, origin headers), an entry records what
 * the cache needs: when its computation started (`bornAt`, which a purge compares), its tags,
 * the source's tag (swr.ts) and, when a stale window applies, its freshness.
 */
import { createHash } from 'node:crypto';
import { OUTPUT_FORMATS, type OutputFormat } from '../formats.js';
import type { ProcessResult } from '../processing/types.js';
import type { BlobMeta } from '../storage/types.js';
import type { ResultFreshness } from './swr.js';

export interface CachedImage {
  data: Buffer;
  contentType: string;
  format: OutputFormat;
  width: number;
  height: number;
  etag: string;
  createdAt: number;
  /** When the computation that made it started (Unix ms); a purge at or after it retires it. Defaults to createdAt. */
  bornAt?: number;
  originWidth?: number;
  originHeight?: number;
  originSize?: number;
  /** Origin's ETag (IMGPROXY_USE_ETAG: the result's ETag, see http/conditional.ts). */
  originEtag?: string;
  /** Origin's Last-Modified (IMGPROXY_USE_LAST_MODIFIED). */
  originLastModified?: string;
  /** Origin's Cache-Control / Expires (IMGPROXY_CACHE_CONTROL_PASSTHROUGH). */
  originCacheControl?: string;
  originExpires?: string;
  /** Set on a fallback image answered instead of an error: the status to answer it with. */
  fallbackStatus?: number;
  /** Cache tags (src/tags.ts): purged by them, sent per IMGPROXY_CACHE_TAGS_FORMAT. */
  tags?: readonly string[];
  /** What identifies the source bytes it was made from (swr.ts sourceTag). */
  sourceTag?: string;
  /** Set when a stale window applies: fresh until `staleAt`, then answered stale (swr.ts). */
  freshness?: ResultFreshness;
}

/** Origin headers a result carries for the response (stored with it, so hits answer alike). */
export interface OriginHeaders {
  originEtag?: string;
  originLastModified?: string;
  originCacheControl?: string;
  originExpires?: string;
}

const ORIGIN_HEADER_FIELDS = ['originEtag', 'originLastModified', 'originCacheControl', 'originExpires'] as const;

/** Strong ETag of the result bytes: differs per options and format, stable across restarts. */
export function computeEtag(data: Buffer): string {
  return `"${createHash('sha256').update(data).digest('base64url').slice(0, 27)}"`;
}

/** What a result records beyond its bytes (the cache's own facts). */
export type ImageFacts = Partial<Pick<CachedImage, 'originSize' | 'createdAt' | 'bornAt' | 'tags' | 'sourceTag' | 'freshness'>> & OriginHeaders;

/** The entry to respond with and then store: the ETag is computed once, here. */
export function makeCachedImage(result: ProcessResult, extra: ImageFacts = {}): CachedImage {
  return {
    data: result.data,
    contentType: result.contentType,
    format: result.format,
    width: result.width,
    height: result.height,
    etag: computeEtag(result.data),
    createdAt: extra.createdAt ?? Date.now(),
    originWidth: result.originWidth,
    originHeight: result.originHeight,
    ...(extra.originSize !== undefined ? { originSize: extra.originSize } : {}),
    ...(extra.bornAt !== undefined ? { bornAt: extra.bornAt } : {}),
    ...(extra.tags !== undefined && extra.tags.length > 0 ? { tags: extra.tags } : {}),
    ...(extra.sourceTag !== undefined ? { sourceTag: extra.sourceTag } : {}),
    ...(extra.freshness !== undefined ? { freshness: extra.freshness } : {}),
    ...pickOriginHeaders(extra),
  };
}

function pickOriginHeaders(from: Partial<Record<(typeof ORIGIN_HEADER_FIELDS)[number], unknown>>): OriginHeaders {
  const out: OriginHeaders = {};
  for (const f of ORIGIN_HEADER_FIELDS) {
    const v = from[f];
    if (typeof v === 'string' && v !== '') out[f] = v;
  }
  return out;
}

/** Version 1: before purges (no bornAt, tags, source tag or freshness); still read. */
const META_VERSIONS = new Set(['1', '2']);
const META_VERSION = '2';

function optNum(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** The metadata stored with a result's bytes. */
export function encodeImageMeta(image: CachedImage): { contentType: string; etag: string; extra: Record<string, string> } {
  const x: Record<string, string> = {
    v: META_VERSION,
    format: image.format,
    width: String(image.width),
    height: String(image.height),
    createdAt: String(image.createdAt),
    bornAt: String(image.bornAt ?? image.createdAt),
  };
  if (image.originWidth !== undefined) x.originWidth = String(image.originWidth);
  if (image.originHeight !== undefined) x.originHeight = String(image.originHeight);
  if (image.originSize !== undefined) x.originSize = String(image.originSize);
  if (image.fallbackStatus !== undefined) x.fallbackStatus = String(image.fallbackStatus);
  if (image.tags !== undefined && image.tags.length > 0) x.tags = image.tags.join(',');
  if (image.sourceTag !== undefined) x.sourceTag = image.sourceTag;
  if (image.freshness !== undefined) x.freshness = `${image.freshness.staleAt},${image.freshness.swrUntil},${image.freshness.sieUntil}`;
  for (const f of ORIGIN_HEADER_FIELDS) {
    const v = image[f];
    if (v !== undefined) x[f] = v;
  }
  return { contentType: image.contentType, etag: image.etag, extra: x };
}

function decodeFreshness(v: string | undefined): ResultFreshness | undefined {
  const parts = v?.split(',').map(Number);
  if (parts?.length !== 3 || parts.some((n) => !Number.isFinite(n))) return undefined;
  const [staleAt, swrUntil, sieUntil] = parts as [number, number, number];
  return { staleAt, swrUntil, sieUntil };
}

/** null when the stored meta is not one we wrote (other version, foreign object): a miss. */
export function decodeImageMeta(meta: BlobMeta, data: Buffer): CachedImage | null {
  const x = meta.extra;
  if (!x || x.v === undefined || !META_VERSIONS.has(x.v) || meta.contentType === undefined || meta.etag === undefined) return null;
  const format = x.format as OutputFormat;
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) return null;
  const width = optNum(x.width);
  const height = optNum(x.height);
  const createdAt = optNum(x.createdAt) ?? meta.createdAt;
  if (width === undefined || height === undefined || data.length !== meta.size) return null;
  const originWidth = optNum(x.originWidth);
  const originHeight = optNum(x.originHeight);
  const originSize = optNum(x.originSize);
  const fallbackStatus = optNum(x.fallbackStatus);
  const bornAt = optNum(x.bornAt);
  const freshness = decodeFreshness(x.freshness);
  const tags = x.tags ? x.tags.split(',') : [];
  return {
    data,
    contentType: meta.contentType,
    format,
    width,
    height,
    etag: meta.etag,
    createdAt,
    ...(bornAt !== undefined ? { bornAt } : {}),
    ...(originWidth !== undefined ? { originWidth } : {}),
    ...(originHeight !== undefined ? { originHeight } : {}),
    ...(originSize !== undefined ? { originSize } : {}),
    ...(fallbackStatus !== undefined ? { fallbackStatus } : {}),
    ...(tags.length > 0 ? { tags } : {}),
    ...(x.sourceTag !== undefined ? { sourceTag: x.sourceTag } : {}),
    ...(freshness !== undefined ? { freshness } : {}),
    ...pickOriginHeaders(x),
  };
}

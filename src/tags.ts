/**
 * Cache tags: labels an entry is stored with and purged by (the `cache_tags` option of imgproxy
 * Pro, https://docs.imgproxy.net/usage/processing#cache-tags, and PIXPROXY_CACHE_TAGS_HEADER).
 * They travel in object metadata (S3 allows 2 KB of it) and in response headers (Cloudflare's
 * comma-separated `Cache-Tag`), so a tag is visible ASCII without `,` or `"`, at most
 * MAX_TAG_LENGTH long, and an entry has at most MAX_TAGS of them.
 */
import { ProxyError } from './errors.js';

export const MAX_TAGS = 16;
export const MAX_TAG_LENGTH = 64;

const TAG_RE = /^[\x21\x23-\x2b\x2d-\x7e]+$/;

/** Whether `tag` can be a cache tag. */
export function isCacheTag(tag: string): boolean {
  return tag.length > 0 && tag.length <= MAX_TAG_LENGTH && TAG_RE.test(tag);
}

/** A set of tags in one order (sorted, no duplicates), so equal sets key alike. */
export function normalizeTags(tags: Iterable<string>): string[] {
  return [...new Set(tags)].sort();
}

/** The tags of a header value (comma-separated); what cannot be a tag is dropped, the rest capped at MAX_TAGS. */
export function tagsFromHeader(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const raw = (Array.isArray(value) ? value.join(',') : value).split(',').map((t) => t.trim());
  return normalizeTags(raw.filter(isCacheTag)).slice(0, MAX_TAGS);
}

/** `cache_tags:%tag1:%tag2…` (processing and /info options): empty arguments are skipped; a bad tag or too many is INVALID_URL. */
export function parseCacheTagArgs(name: string, args: readonly string[]): string[] {
  const tags = args.filter((a) => a !== '');
  const bad = tags.find((t) => !isCacheTag(t));
  if (bad !== undefined) throw new ProxyError('INVALID_URL', `Invalid ${name}: expected tags of 1 to ${MAX_TAG_LENGTH} visible ASCII characters without , or ", got ${JSON.stringify(bad)}`);
  const out = normalizeTags(tags);
  if (out.length > MAX_TAGS) throw new ProxyError('INVALID_URL', `Invalid ${name}: expected at most ${MAX_TAGS} tags, got ${out.length}`);
  return out;
}

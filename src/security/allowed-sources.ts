/**
 * IMGPROXY_ALLOWED_SOURCES: a list of URL prefixes where `*` matches any run of characters
 * except `/` (so `https://*.cdn.dev/` also matches `https://a.b.cdn.dev/x.png`). An empty list
 * allows every source.
 *
 * Patterns are plain prefixes of the URL string, as in imgproxy: a host pattern must end with
 * `/`, or `http://example.com` also matches `http://example.com@evil.com/` and
 * `http://example.com.evil.com/`. We check every redirect hop too (imgproxy does not).
 */
import type { Config } from '../config/index.js';

const compiled = new WeakMap<readonly string[], readonly RegExp[]>();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `*` → `[^/]*`, everything else literal, anchored at the start only (prefix match). */
function compileSourcePattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map(escapeRegExp).join('[^/]*')}`);
}

function patternsOf(list: readonly string[]): readonly RegExp[] {
  let out = compiled.get(list);
  if (!out) {
    out = list.map(compileSourcePattern);
    // The config is frozen, so its array is a stable cache key for the whole process.
    compiled.set(list, out);
  }
  return out;
}

export function isSourceAllowed(url: string, config: Pick<Config, 'security'>): boolean {
  const list = config.security.allowedSources;
  if (list.length === 0) return true;
  return patternsOf(list).some((re) => re.test(url));
}

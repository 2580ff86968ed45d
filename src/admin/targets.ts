/**
 * What an admin purge body names, as the cache's PurgeRequest. An image URL (either dialect,
 * a path or an absolute URL, its signature not checked: the admin holds the secret that
 * matters here) is parsed by the dialects themselves, so every spelling of one result (aliases,
 * option order, presets) names the same entries; an `/info` URL names its cached answer.
 */
import type { PurgeRequest, PurgeTarget } from '../cache/index.js';
import { resultGroup } from '../cache/key.js';
import type { InfoCache } from '../cache/index.js';
import type { Config } from '../config/index.js';
import { createImgproxyDialect } from '../dialects/imgproxy/index.js';
import { createPreviewProxyDialect } from '../dialects/previewproxy/index.js';
import { ProxyError } from '../errors.js';
import { parseInfoOptions } from '../processing/info-options.js';
import { isCacheTag } from '../tags.js';

/** A key prefix an admin may purge by: the characters of the cache's keys (cache/key.ts). */
const PREFIX_RE = /^[0-9a-z_]{1,200}$/;
const KINDS = ['url', 'source', 'tag', 'prefix', 'all'] as const;

export type TargetParser = (body: unknown) => PurgeRequest;

/** The config the admin parses URLs with: signatures not checked (no keys, no HMAC key). */
function unsigned(config: Config): Config {
  return {
    ...config,
    security: { ...config.security, keys: [], salts: [], trustedSignatures: [] },
    previewproxy: { ...config.previewproxy, hmacKey: '' },
  };
}

const bad = (detail: string): ProxyError => new ProxyError('BAD_REQUEST', detail);

export function createTargetParser(config: Config, info: Pick<InfoCache, 'key'>): TargetParser {
  const cfg = unsigned(config);
  const imgproxy = createImgproxyDialect(cfg);
  const previewproxy = createPreviewProxyDialect(cfg);
  const pathPrefix = config.server.pathPrefix;

  /** The entries one image or /info URL names. */
  function urlTarget(raw: string): PurgeTarget {
    let u: URL;
    try {
      u = new URL(raw, 'http://admin.invalid');
    } catch {
      throw bad(`url: expected an image URL or path, got ${JSON.stringify(raw.slice(0, 200))}`);
    }
    let path = u.pathname;
    if (pathPrefix && path.startsWith(pathPrefix)) path = path.slice(pathPrefix.length) || '/';
    if (path.startsWith('/info/')) {
      const parsed = imgproxy.parseInfo(path.slice('/info'.length), {});
      const options = parseInfoOptions(parsed.segments, cfg);
      return { kind: 'url', group: info.key(parsed.source, options as unknown as Record<string, unknown>), source: parsed.source };
    }
    const request =
      path === '/proxy'
        ? previewproxy.parseQuery(u.searchParams, {})
        : config.server.pathDialect === 'previewproxy'
          ? previewproxy.parsePath(path, u.searchParams, {})
          : imgproxy.parseImage(path, {});
    return { kind: 'url', group: resultGroup(request, config.cache), source: request.source };
  }

  return (body) => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('expected a JSON object');
    const b = body as Record<string, unknown>;
    const named = KINDS.filter((k) => b[k] !== undefined);
    if (named.length !== 1) throw bad(`expected exactly one of ${KINDS.join(', ')}, got ${named.length === 0 ? 'none' : named.join(', ')}`);
    for (const k of Object.keys(b)) if (!(KINDS as readonly string[]).includes(k) && k !== 'origin') throw bad(`unknown member ${JSON.stringify(k)}`);
    if (b.origin !== undefined && typeof b.origin !== 'boolean') throw bad('origin: expected a boolean');
    const origin = b.origin === true;
    const kind = named[0] as (typeof KINDS)[number];
    const value = b[kind];
    if (kind === 'all') {
      if (value !== true) throw bad('all: expected true');
      return { target: { kind: 'all' }, origin };
    }
    if (typeof value !== 'string' || value === '') throw bad(`${kind}: expected a non-empty string`);
    switch (kind) {
      case 'url':
        return { target: urlTarget(value), origin };
      case 'source':
        return { target: { kind: 'source', url: value }, origin };
      case 'tag':
        if (!isCacheTag(value)) throw bad(`tag: expected 1 to 64 visible ASCII characters without , or ", got ${JSON.stringify(value.slice(0, 80))}`);
        return { target: { kind: 'tag', tag: value }, origin };
      case 'prefix':
        if (!PREFIX_RE.test(value)) throw bad(`prefix: expected 1 to 200 characters of [0-9a-z_] (the cache's keys), got ${JSON.stringify(value.slice(0, 80))}`);
        return { target: { kind: 'prefix', prefix: value }, origin };
    }
  };
}

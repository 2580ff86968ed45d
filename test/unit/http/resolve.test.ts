/**
 * The resolve memo: requests share a memo entry only when they would share the cache key.
 * An absent key header and an empty one have different keys (null vs ""), so they must not
 * share the entry of whichever came first.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { transformedKey } from '../../../src/cache/key.js';
import { loadConfig } from '../../../src/config/index.js';
import { createImgproxyDialect } from '../../../src/dialects/imgproxy/index.js';
import { createResolver } from '../../../src/http/resolve.js';
import { createSources } from '../../../src/sources/index.js';

const config = loadConfig({ IMGPROXY_CACHE_KEY_HEADERS: 'X-Tenant', IMGPROXY_CACHE_KEY_COOKIES: 'plan', IMGPROXY_ENABLE_CLIENT_HINTS: 'true' });
const dialect = createImgproxyDialect(config);
const path = '/insecure/w:100/plain/http://example.com/a.jpg';

function setup(): { resolve: (headers: IncomingHttpHeaders) => string; parses: () => number } {
  let parses = 0;
  const resolve = createResolver(config, { key: (req, headers) => transformedKey(req, headers, config.cache) }, createSources(config));
  return {
    resolve: (headers) =>
      resolve(`i\0${path}`, () => {
        parses++;
        return dialect.parseImage(path, headers);
      }, headers).key,
    parses: () => parses,
  };
}

const keyOf = (headers: IncomingHttpHeaders): string => transformedKey(dialect.parseImage(path, headers), headers, config.cache);

describe('resolve memo', () => {
  it('remembers: the same URL and headers are parsed once', () => {
    const { resolve, parses } = setup();
    expect(resolve({ 'x-tenant': 'a' })).toBe(resolve({ 'x-tenant': 'a' }));
    expect(parses()).toBe(1);
  });

  for (const [name, header] of [
    ['a key header', 'x-tenant'],
    ['the Cookie header (key cookies)', 'cookie'],
    ['a client hint', 'dpr'],
    ['Accept', 'accept'],
  ] as const) {
    it(`${name}: absent and empty resolve to their own keys, whichever comes first`, () => {
      for (const order of [[{}, { [header]: '' }], [{ [header]: '' }, {}]] as IncomingHttpHeaders[][]) {
        const { resolve } = setup();
        for (const headers of order) expect(resolve(headers)).toBe(keyOf(headers));
      }
    });
  }

  it('the absent/empty key header case gives two different keys (so sharing one entry served a foreign key)', () => {
    expect(keyOf({})).not.toBe(keyOf({ 'x-tenant': '' }));
  });
});

describe('resolve memo size', () => {
  it('holds 20,000 distinct URLs: a second pass over them parses nothing', () => {
    const resolve = createResolver(config, { key: (req, headers) => transformedKey(req, headers, config.cache) }, createSources(config));
    let parses = 0;
    const urls = Array.from({ length: 20_000 }, (_, i) => `/insecure/rs:fit:${100 + (i % 900)}:${100 + Math.floor(i / 900)}/plain/http://example.com/v/${i}/big.jpg`);
    const pass = () => {
      for (const p of urls)
        resolve(`i\0${p}`, () => {
          parses++;
          return dialect.parseImage(p, {});
        }, {});
    };
    pass();
    expect(parses).toBe(urls.length);
    pass();
    expect(parses).toBe(urls.length);
  });
});

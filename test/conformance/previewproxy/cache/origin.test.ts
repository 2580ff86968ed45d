/**
 * src/modules/cache/origin.rs (https://github.com/ViGrise/previewproxy): the origin sub-store
 * (raw source bytes keyed by URL) and its TTL from the upstream's Cache-Control / Expires,
 * through a real server: a stored source is not fetched again for another variant, an expired
 * or unstored one is. PreviewProxy takes the TTL from the headers on its pass-through path only,
 * so each case first asks for the source untransformed, then for a variant.
 */
import { describe, expect } from 'vitest';
import { differs, ported } from '../../harness.js';
import { solidPng } from '../fixtures.js';
import { enc, expectOk, get, ppServers, useOrigin } from '../pp.js';

describe('src/modules/cache/origin.rs', () => {
  const o = useOrigin(async () => {
    const png = await solidPng(8, 8, { r: 10, g: 20, b: 30 });
    const file = (headers: Record<string, string> = {}) => ({ body: png, contentType: 'image/png', headers });
    return {
      '/a.png': file(),
      '/b.png': { body: await solidPng(8, 8, { r: 200, g: 20, b: 30 }), contentType: 'image/png' },
      '/plain.png': file(),
      '/ttl0.png': file(),
      '/cc.png': file({ 'Cache-Control': 'public, max-age=1' }),
      '/nostore.png': file({ 'Cache-Control': 'no-store' }),
      '/future.png': file({ Expires: future() }),
      '/past.png': file({ Expires: 'Thu, 01 Jan 1970 00:00:00 GMT' }),
      '/none.png': file(),
      '/maxage0.png': file({ 'Cache-Control': 'max-age=0' }),
    };
  });
  const servers = ppServers();
  const future = () => new Date(Date.now() + 600_000).toUTCString();
  /** Asks for `path` untransformed, then as a 4-px variant; returns how often the origin was hit. */
  async function twoVariants(path: string, env: Record<string, string> = {}, pauseMs = 0): Promise<number> {
    const px = await servers.get(env);
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}${path}`)}`));
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}${path}`)}&w=4`));
    return o.count(path);
  }

  ported('test_get_set', async () => expect(await twoVariants('/plain.png')).toBe(1));

  ported('test_different_urls_different_keys', async () => {
    const px = await servers.get();
    for (const p of ['/a.png', '/b.png']) expectOk(await get(px, `/proxy?url=${enc(`${o.url}${p}`)}&w=2`));
    for (const p of ['/a.png', '/b.png']) expectOk(await get(px, `/proxy?url=${enc(`${o.url}${p}`)}&w=3`));
    expect([o.count('/a.png'), o.count('/b.png')]).toEqual([1, 1]);
  });

  // TTL 0 everywhere (L1 off too): the origin entry is expired at once, so it is fetched again.
  ported('test_ttl_expired', async () => expect(await twoVariants('/ttl0.png', { PP_CACHE_DISK_TTL_SECS: '0', PP_CACHE_MEMORY_MAX_MB: '0', PIXPROXY_ORIGIN_MEMORY_MAX_MB: '0' })).toBe(2));

  ported('test_miss_returns_none', async () => {
    expectOk(await get(await servers.get(), `/proxy?url=${enc(`${o.url}/none.png`)}&w=5`));
    expect(o.count('/none.png')).toBe(1);
  });

  ported('test_ttl_from_cache_control', async () => expect(await twoVariants('/cc.png', {}, 1500)).toBe(2));

  differs(
    'no-store forbids storing (RFC 9111 §5.2.2.5); PreviewProxy ignores it and keeps the source for PP_CACHE_DISK_TTL_SECS',
    'test_ttl_from_cache_control_no_store',
    async () => expect(await twoVariants('/nostore.png')).toBe(2),
  );

  ported('test_ttl_from_expires_future', async () => expect(await twoVariants('/future.png')).toBe(1));
  ported('test_ttl_from_expires_past', async () => expect(await twoVariants('/past.png')).toBe(2));
  ported('test_ttl_fallback_no_headers', async () => expect(await twoVariants('/none.png')).toBe(1));
  ported('test_skip_set_when_ttl_zero', async () => expect(await twoVariants('/maxage0.png')).toBe(2));
});

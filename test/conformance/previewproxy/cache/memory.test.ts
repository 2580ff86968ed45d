/**
 * src/modules/cache/memory.rs (https://github.com/ViGrise/previewproxy): the L1 memory cache,
 * through a real server: a repeat is `X-Cache: HIT-L1` with the entry's content type; the
 * entry count is what `/health` reports as `cache_memory_items`.
 */
import { describe, expect } from 'vitest';
import { ported } from '../../harness.js';
import { solidPng } from '../fixtures.js';
import { enc, eventually, expectOk, get, ppServers, useOrigin } from '../pp.js';

describe('src/modules/cache/memory.rs', () => {
  const o = useOrigin(async () => {
    const png = await solidPng(6, 6, { r: 1, g: 2, b: 3 });
    return { '/k.png': { body: png, contentType: 'image/png' }, '/a.png': { body: png, contentType: 'image/png' }, '/b.png': { body: png, contentType: 'image/png' } };
  });
  const servers = ppServers();

  ported('test_set_and_get', async () => {
    const px = await servers.get();
    const path = `/proxy?url=${enc(`${o.url}/k.png`)}`;
    expectOk(await get(px, path));
    expect(await eventually(async () => {
      const r = await get(px, path);
      return r.headers.get('x-cache') === 'HIT-L1' && r.headers.get('content-type') === 'image/png';
    })).toBe(true);
  });

  ported('test_miss', async () => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/k.png`)}&w=5`);
    expect(r.headers.get('x-cache')).toBe('MISS');
  });

  ported('test_item_count', async () => {
    // A server of its own (a distinct environment), so its L1 holds only these two entries.
    const px = await servers.get({ PP_CACHE_MEMORY_TTL_SECS: '3599' });
    for (const p of ['/a.png', '/b.png']) expectOk(await get(px, `/proxy?url=${enc(`${o.url}${p}`)}`));
    expect(await eventually(async () => {
      const h = JSON.parse((await get(px, '/health')).body.toString()) as { cache_memory_items?: number };
      return h.cache_memory_items === 2;
    })).toBe(true);
  });
});

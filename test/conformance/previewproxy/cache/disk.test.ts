/**
 * src/modules/cache/disk.rs (https://github.com/ViGrise/previewproxy): the L2 disk cache, with
 * L1 off (PP_CACHE_MEMORY_MAX_MB=0) so a repeat is an L2 hit (`X-Cache: HIT-L2`) or a miss,
 * through a real server. The per-entry TTL exists for the origin sub-store: its cases store a
 * source with a TTL from Cache-Control that outlives (or undercuts) PP_CACHE_DISK_TTL_SECS.
 */
import { describe, expect } from 'vitest';
import { ported } from '../../harness.js';
import { solidPng } from '../fixtures.js';
import { enc, expectOk, get, ppServers, useOrigin } from '../pp.js';

describe('src/modules/cache/disk.rs', () => {
  const o = useOrigin(async () => {
    const png = await solidPng(6, 6, { r: 1, g: 2, b: 3 });
    return {
      '/w.png': { body: png, contentType: 'image/png' },
      '/s.png': { body: png, contentType: 'image/png' },
      '/m.png': { body: png, contentType: 'image/png' },
      '/long.png': { body: png, contentType: 'image/png', headers: { 'Cache-Control': 'max-age=86400' } },
      '/short.png': { body: png, contentType: 'image/png', headers: { 'Cache-Control': 'max-age=0' } },
    };
  });
  const servers = ppServers(() => ({ PP_CACHE_MEMORY_MAX_MB: '0', PIXPROXY_ORIGIN_MEMORY_MAX_MB: '0' }));
  const ask = async (path: string, env: Record<string, string> = {}) => {
    const r = await get(await servers.get(env), `/proxy?url=${enc(`${o.url}${path}`)}`);
    expectOk(r);
    return r.headers.get('x-cache');
  };

  ported('test_write_and_read', async () => {
    expect(await ask('/w.png?v=1')).toBe('MISS');
    await new Promise((r) => setTimeout(r, 200));
    expect(await ask('/w.png?v=1')).toBe('HIT-L2');
  });

  ported('test_stale_returns_none', async () => {
    const env = { PP_CACHE_DISK_TTL_SECS: '0' };
    expect(await ask('/s.png', env)).toBe('MISS');
    await new Promise((r) => setTimeout(r, 50));
    expect(await ask('/s.png', env)).toBe('MISS');
  });

  ported('test_miss', async () => expect(await ask('/m.png')).toBe('MISS'));

  ported('test_per_entry_ttl_override', async () => {
    const px = await servers.get({ PP_CACHE_DISK_TTL_SECS: '1' });
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}/long.png`)}`));
    await new Promise((r) => setTimeout(r, 1300));
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}/long.png`)}&w=3`));
    expect(o.count('/long.png')).toBe(1);
  });

  ported('test_per_entry_ttl_short', async () => {
    const px = await servers.get();
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}/short.png`)}`));
    await new Promise((r) => setTimeout(r, 50));
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}/short.png`)}&w=3`));
    expect(o.count('/short.png')).toBe(2);
  });
});

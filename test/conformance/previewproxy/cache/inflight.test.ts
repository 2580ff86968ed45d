/**
 * src/modules/cache/inflight.rs (https://github.com/ViGrise/previewproxy): concurrent misses for
 * one key coalesce — one upstream fetch, and every waiter gets the leader's result, success or
 * error — through a real server and a slow origin. `test_wait_no_inflight_returns_none` tests
 * the map's internals (a wait on a key nobody computes) and has no HTTP counterpart (README).
 */
import { describe, expect } from 'vitest';
import { ported } from '../../harness.js';
import { solidPng } from '../fixtures.js';
import { enc, get, ppServers, useOrigin } from '../pp.js';

describe('src/modules/cache/inflight.rs', () => {
  const o = useOrigin(async () => ({
    '/slow.png': { body: await solidPng(6, 6, { r: 1, g: 2, b: 3 }), contentType: 'image/png', delayMs: 400 },
    '/slow-missing.png': { body: Buffer.from('no'), contentType: 'text/plain', status: 404, delayMs: 400 },
  }));
  const servers = ppServers();
  const both = async (path: string) => {
    const px = await servers.get();
    return Promise.all([get(px, `/proxy?url=${enc(`${o.url}${path}`)}&w=4`), get(px, `/proxy?url=${enc(`${o.url}${path}`)}&w=4`)]);
  };

  ported('test_concurrent_coalesced', async () => {
    const [a, b] = await both('/slow.png');
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(o.count('/slow.png')).toBe(1);
  });

  ported('test_error_propagated', async () => {
    const [a, b] = await both('/slow-missing.png');
    expect(a.status).toBeGreaterThanOrEqual(400);
    expect(b.status).toBeGreaterThanOrEqual(400);
    expect(o.count('/slow-missing.png')).toBe(1);
  });
});

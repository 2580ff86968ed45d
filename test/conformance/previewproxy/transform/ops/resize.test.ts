/**
 * src/modules/transform/ops/resize.rs (https://github.com/ViGrise/previewproxy): `contain`
 * (which upscales: 1×1 → 10×10) and no size at all, through a real server.
 */
import { describe, expect } from 'vitest';
import { inspect, ported } from '../../../harness.js';
import { tinyPng } from '../../fixtures.js';
import { enc, expectOk, get, ppServers, useOrigin } from '../../pp.js';

describe('src/modules/transform/ops/resize.rs', () => {
  const o = useOrigin(async () => ({ '/tiny.png': { body: await tinyPng(), contentType: 'image/png' } }));
  const servers = ppServers();
  const size = async (query: string) => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/tiny.png`)}${query}`);
    expectOk(r);
    const i = await inspect(r.body);
    return [i.width, i.height];
  };

  ported('test_resize_both_dims', async () => expect(await size('&w=10&h=10&fit=contain')).toEqual([10, 10]));
  ported('test_resize_no_dims_returns_unchanged', async () => expect(await size('&fit=contain')).toEqual([1, 1]));
});

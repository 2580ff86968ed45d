/**
 * src/modules/transform/ops/blur.rs (https://github.com/ViGrise/previewproxy): `blur` through a
 * real server; upstream checks only that the image survives (size kept, no panic), and so do we.
 */
import { describe, expect } from 'vitest';
import { inspect, ported } from '../../../harness.js';
import { solidPng } from '../../fixtures.js';
import { enc, expectOk, get, ppServers, useOrigin } from '../../pp.js';

describe('src/modules/transform/ops/blur.rs', () => {
  const o = useOrigin(async () => ({ '/4.png': { body: await solidPng(4, 4, { r: 0, g: 0, b: 0 }), contentType: 'image/png' } }));
  const servers = ppServers();
  const blurred = async (sigma: string) => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/4.png`)}&blur=${sigma}`);
    expectOk(r);
    return inspect(r.body);
  };

  ported('test_blur_sigma_zero_unchanged', async () => expect((await blurred('0')).width).toBe(4));
  ported('test_blur_applies', async () => expect((await blurred('2')).width).toBe(4));
});

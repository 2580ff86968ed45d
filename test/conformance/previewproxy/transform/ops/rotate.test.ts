/**
 * src/modules/transform/ops/rotate.rs (https://github.com/ViGrise/previewproxy): rotation and
 * flips on upstream's 4×2 image, through a real server; the flip is also checked in pixels
 * (upstream only checks the width).
 */
import sharp from 'sharp';
import { describe, expect } from 'vitest';
import { inspect, near, pixels, ported } from '../../../harness.js';
import { enc, expectOk, get, ppServers, useOrigin } from '../../pp.js';

describe('src/modules/transform/ops/rotate.rs', () => {
  const o = useOrigin(async () => {
    // 4×2, red in the left half, blue in the right: a horizontal flip swaps them.
    const raw = Buffer.alloc(4 * 2 * 3);
    for (let i = 0; i < 8; i++) raw.set(i % 4 < 2 ? [255, 0, 0] : [0, 0, 255], i * 3);
    return { '/4x2.png': { body: await sharp(raw, { raw: { width: 4, height: 2, channels: 3 } }).png().toBuffer(), contentType: 'image/png' } };
  });
  const servers = ppServers();
  const ask = async (query: string) => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/4x2.png`)}&format=png${query}`);
    expectOk(r);
    return r.body;
  };

  ported('test_rotate_90_swaps_dims', async () => {
    const i = await inspect(await ask('&rotate=90'));
    expect([i.width, i.height]).toEqual([2, 4]);
  });

  ported('test_rotate_none_unchanged', async () => expect((await inspect(await ask(''))).width).toBe(4));

  ported('test_flip_h', async () => {
    const px = await pixels(await ask('&flip=h'));
    expect(px.width).toBe(4);
    expect(near(px.at(0, 0), { r: 0, g: 0, b: 255 })).toBe(true);
  });
});

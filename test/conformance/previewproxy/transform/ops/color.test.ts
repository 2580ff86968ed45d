/**
 * src/modules/transform/ops/color.rs (https://github.com/ViGrise/previewproxy): grayscale and
 * brightness/contrast through a real server. `to_grayscale` returns a Luma image: the answer
 * must be single-channel (two with alpha), its pixels grey.
 */
import { describe, expect } from 'vitest';
import { inspect, pixels, ported } from '../../../harness.js';
import { solidPng } from '../../fixtures.js';
import { enc, expectOk, get, ppServers, useOrigin } from '../../pp.js';

describe('src/modules/transform/ops/color.rs', () => {
  const o = useOrigin(async () => {
    // `new_rgb8` is black; a colour makes grayscale visible in the pixels too.
    return { '/2.png': { body: await solidPng(2, 2, { r: 200, g: 40, b: 90 }), contentType: 'image/png' } };
  });
  const servers = ppServers();
  const ask = async (query: string) => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/2.png`)}${query}`);
    expectOk(r);
    return r.body;
  };

  ported('test_grayscale_returns_luma_image', async () => {
    const body = await ask('&grayscale=1&format=png');
    const info = await inspect(body);
    expect(info.channels - (info.hasAlpha ? 1 : 0)).toBe(1);
    const p = (await pixels(body)).at(0, 0);
    expect([p.r, p.g]).toEqual([p.b, p.b]);
  });

  ported('test_brightness_no_panic', async () => {
    expect((await inspect(await ask('&bright=10&contrast=5'))).width).toBe(2);
  });

  ported('test_brightness_zero_unchanged', async () => {
    expect((await inspect(await ask('&bright=0&contrast=0'))).width).toBe(2);
  });
});

/**
 * src/modules/transform/ops/watermark.rs (https://github.com/ViGrise/previewproxy): image
 * watermark placement, opacity and scale, text watermarks, colour parsing — through a real
 * server, read back in pixels. `compute_single_position(100, 80, 20, 10, pos, x, y)` becomes a
 * 100×80 white base with a 20×10 red mark at natural size (`wm_scale=0`): the mark must cover
 * the rectangle upstream computes. `apply_opacity` becomes a mark with that alpha over white.
 *
 * The image-watermark cases name the configured watermark (IMGPROXY_WATERMARK_URL = the `wm`
 * URL), so they measure placement and opacity; a `wm` from any source is measured by the
 * `service.rs` cases and the docs' examples.
 */
import { describe, expect } from 'vitest';
import { near, pixels, ported } from '../../../harness.js';
import { solidPng, tinyPng, WHITE } from '../../fixtures.js';
import { enc, expectOk, expectPpError, get, ppServers, useOrigin } from '../../pp.js';

describe('src/modules/transform/ops/watermark.rs', () => {
  const o = useOrigin(async () => ({
    '/base100x80.png': { body: await solidPng(100, 80, WHITE), contentType: 'image/png' },
    '/clear100.png': { body: await solidPng(100, 100, WHITE, 0), contentType: 'image/png' },
    '/clear200.png': { body: await solidPng(200, 200, WHITE, 0), contentType: 'image/png' },
    '/clear50.png': { body: await solidPng(50, 50, WHITE, 0), contentType: 'image/png' },
    '/clear200x100.png': { body: await solidPng(200, 100, WHITE, 0), contentType: 'image/png' },
    '/grey.png': { body: await solidPng(200, 100, { r: 128, g: 128, b: 128 }), contentType: 'image/png' },
    '/mark.png': { body: await solidPng(20, 10, { r: 255, g: 0, b: 0 }), contentType: 'image/png' },
    '/mark200.png': { body: await solidPng(20, 10, { r: 255, g: 0, b: 0 }, 200 / 255), contentType: 'image/png' },
    '/mark128.png': { body: await solidPng(20, 10, { r: 255, g: 0, b: 0 }, 128 / 255), contentType: 'image/png' },
    '/mark-white.png': { body: await solidPng(20, 10, WHITE), contentType: 'image/png' },
    '/tiny.png': { body: await tinyPng(), contentType: 'image/png' },
  }));
  const servers = ppServers();

  /** A request with the watermark `mark` over `base`, the mark configured as the server's. */
  async function marked(base: string, mark: string, query: string) {
    const wm = `${o.url}/${mark}`;
    const r = await get(await servers.get({ IMGPROXY_WATERMARK_URL: wm }), `/proxy?url=${enc(`${o.url}/${base}`)}&wm=${enc(wm)}&format=png${query}`);
    expectOk(r);
    return pixels(r.body);
  }

  /** The red 20×10 mark covers [x, x+20) × [y, y+10) of the 100×80 base, and nothing around it. */
  async function expectMarkAt(query: string, x: number, y: number) {
    const px = await marked('base100x80.png', 'mark.png', `&wm_scale=0${query}`);
    expect([px.width, px.height]).toEqual([100, 80]);
    const red = { r: 255, g: 0, b: 0 };
    for (const [dx, dy] of [[1, 1], [18, 1], [1, 8], [18, 8], [10, 5]] as const) expect(px.at(x + dx, y + dy), `inside at ${x + dx},${y + dy}`).toSatisfy((p: Parameters<typeof near>[0]) => near(p, red));
    for (const [ox, oy] of [[x - 2, y + 5], [x + 22, y + 5], [x + 10, y - 2], [x + 10, y + 12]] as const) {
      if (ox >= 0 && ox < 100 && oy >= 0 && oy < 80) expect(px.at(ox, oy), `outside at ${ox},${oy}`).toSatisfy((p: Parameters<typeof near>[0]) => near(p, WHITE));
    }
  }

  ported('image_watermark_preserves_base_dimensions', async () => {
    const px = await marked('clear100.png', 'tiny.png', '&wm_scale=0.15&wm_pos=noea');
    expect([px.width, px.height]).toEqual([100, 100]);
  });

  ported('image_watermark_ce_position', async () => {
    const px = await marked('clear200.png', 'tiny.png', '&wm_scale=0.1&wm_pos=ce');
    expect([px.width, px.height]).toEqual([200, 200]);
  });

  ported('image_watermark_tiling_re_position', async () => {
    const px = await marked('clear50.png', 'tiny.png', '&wm_scale=0.2&wm_opacity=0.5&wm_pos=re&wm_x=2&wm_y=2');
    expect([px.width, px.height]).toEqual([50, 50]);
  });

  ported('position_ce_centers_watermark', () => expectMarkAt('&wm_pos=ce', 40, 35));
  ported('position_noea_top_right', () => expectMarkAt('&wm_pos=noea', 80, 0));
  ported('position_sowe_bottom_left', () => expectMarkAt('&wm_pos=sowe', 0, 70));
  ported('position_offsets_applied', () => expectMarkAt('&wm_pos=noea&wm_x=-5&wm_y=10', 75, 10));
  ported('position_no_top_center', () => expectMarkAt('&wm_pos=no', 40, 0));
  ported('position_so_bottom_center', () => expectMarkAt('&wm_pos=so', 40, 70));
  ported('position_ea_right_center', () => expectMarkAt('&wm_pos=ea', 80, 35));
  ported('position_we_left_center', () => expectMarkAt('&wm_pos=we', 0, 35));

  // Red with alpha a over white: G and B are 255 × (1 − a).
  ported('opacity_reduces_alpha', async () => {
    const px = await marked('base100x80.png', 'mark200.png', '&wm_scale=0&wm_pos=ce&wm_opacity=0.5');
    expect(near(px.at(50, 40), { r: 255, g: 155, b: 155 }, 8), JSON.stringify(px.at(50, 40))).toBe(true);
  });

  ported('opacity_full_unchanged', async () => {
    const px = await marked('base100x80.png', 'mark128.png', '&wm_scale=0&wm_pos=ce&wm_opacity=1');
    expect(near(px.at(50, 40), { r: 255, g: 127, b: 127 }, 8), JSON.stringify(px.at(50, 40))).toBe(true);
  });

  ported('opacity_zero_transparent', async () => {
    const px = await marked('base100x80.png', 'mark.png', '&wm_scale=0&wm_pos=ce&wm_opacity=0');
    expect(near(px.at(50, 40), WHITE, 2), JSON.stringify(px.at(50, 40))).toBe(true);
  });

  const text = async (base: string, query: string) => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/${base}`)}&format=png${query}`);
    expectOk(r);
    return pixels(r.body);
  };
  /** Whether any pixel of the answer is within `tol` of `c`. */
  const anyPixel = (px: Awaited<ReturnType<typeof pixels>>, test: (p: ReturnType<typeof px.at>) => boolean): boolean => {
    for (let y = 0; y < px.height; y++) for (let x = 0; x < px.width; x++) if (test(px.at(x, y))) return true;
    return false;
  };

  ported('text_watermark_preserves_base_dimensions', async () => {
    const px = await text('clear100.png', '&wmt=Hello&wmt_color=ffffff&wmt_size=16&wm_pos=ce');
    expect([px.width, px.height]).toEqual([100, 100]);
  });

  ported('text_watermark_renders_non_transparent_pixels', async () => {
    const px = await text('clear200x100.png', '&wmt=X&wmt_color=ff0000&wmt_size=32&wm_pos=ce');
    expect(anyPixel(px, (p) => p.r > 0 && p.a > 0)).toBe(true);
  });

  ported('parse_hex_color_valid', async () => {
    for (const [hex, c] of [['ff0000', { r: 255, g: 0, b: 0 }], ['000000', { r: 0, g: 0, b: 0 }], ['FFFFFF', { r: 255, g: 255, b: 255 }]] as const) {
      const px = await text('grey.png', `&wmt=XX&wmt_color=${hex}&wmt_size=48&wm_pos=ce`);
      expect(anyPixel(px, (p) => near(p, c, 16)), hex).toBe(true);
    }
  });

  ported('parse_hex_color_invalid_returns_err', async () => {
    for (const bad of ['gg0000', 'fff']) {
      expectPpError(await get(await servers.get(), `/proxy?url=${enc(`${o.url}/grey.png`)}&wmt=X&wmt_color=${bad}`), 400, 'invalid_params', 'invalid wmt_color');
    }
  });
});

/**
 * src/modules/transform/ops/best_format.rs (https://github.com/ViGrise/previewproxy):
 * `format=best` — the edge-density heuristic that drops lossless candidates on complex
 * images, the candidate list (PP_BEST_FORMAT_PREFERRED_FORMATS), GIF only for GIF sources,
 * the output disallow list and the PP_BEST_FORMAT_MAX_RESOLUTION fast path — through a real
 * server. `edge_density` is observed through its one use: a solid image lets PNG compete
 * (and win: it is far smaller), a 1-pixel checkerboard makes it drop out, so JPEG wins.
 */
import sharp from 'sharp';
import { describe, expect } from 'vitest';
import { ported } from '../../../harness.js';
import { checkerboard, solidImage, tinyGifAnim } from '../../fixtures.js';
import { enc, expectOk, expectPpError, get, ppServers, useOrigin } from '../../pp.js';

describe('src/modules/transform/ops/best_format.rs', () => {
  const o = useOrigin(async () => ({
    '/solid10.png': { body: await solidImage(10), contentType: 'image/png' },
    // A JPEG source, so that keeping the source format and PreviewProxy's choice (png) differ.
    '/solid20.jpg': { body: await sharp(await solidImage(20)).jpeg().toBuffer(), contentType: 'image/jpeg' },
    '/solid50.png': { body: await solidImage(50), contentType: 'image/png' },
    '/checker10.png': { body: await checkerboard(10), contentType: 'image/png' },
    '/checker20.png': { body: await checkerboard(20), contentType: 'image/png' },
    '/a.gif': { body: await tinyGifAnim(), contentType: 'image/gif' },
  }));
  const servers = ppServers();

  const best = async (src: string, env: Record<string, string> = {}) => {
    const r = await get(await servers.get(env), `/proxy?url=${enc(`${o.url}/${src}`)}&format=best`);
    expectOk(r);
    return { type: r.headers.get('content-type') ?? '', size: r.body.length };
  };
  const JPEG_PNG = { PP_BEST_FORMAT_PREFERRED_FORMATS: 'jpeg,png' };

  ported('test_solid_image_has_low_edge_density', async () => {
    expect((await best('solid20.jpg', JPEG_PNG)).type).toBe('image/png');
  });

  ported('test_checkerboard_has_high_edge_density', async () => {
    expect((await best('checker20.png', JPEG_PNG)).type).toBe('image/jpeg');
  });

  ported('test_select_best_format_returns_bytes', async () => {
    const { type, size } = await best('solid10.png');
    expect(size).toBeGreaterThan(0);
    expect(type.startsWith('image/')).toBe(true);
  });

  ported('test_select_best_format_low_complexity_may_choose_png', async () => {
    expect((await best('solid50.png')).type.startsWith('image/')).toBe(true);
  });

  ported('test_all_candidates_disallowed_returns_error', async () => {
    const r = await get(await servers.get({ PP_OUTPUT_DISALLOW_LIST: 'jpeg,webp,png' }), `/proxy?url=${enc(`${o.url}/solid10.png`)}&format=best`);
    expectPpError(r, 400, 'transform_disabled');
  });

  ported('test_gif_excluded_for_non_gif_source', async () => {
    expect((await best('solid10.png', { PP_BEST_FORMAT_PREFERRED_FORMATS: 'jpeg,gif' })).type).toBe('image/jpeg');
  });

  ported('test_gif_included_for_gif_source', async () => {
    const { type, size } = await best('a.gif', { PP_BEST_FORMAT_PREFERRED_FORMATS: 'jpeg,gif' });
    expect(size).toBeGreaterThan(0);
    expect(['image/jpeg', 'image/gif']).toContain(type);
  });

  ported('test_preferred_formats_avif_jxl', async () => {
    expect(['image/avif', 'image/jxl']).toContain((await best('solid10.png', { PP_BEST_FORMAT_PREFERRED_FORMATS: 'avif,jxl' })).type);
  });

  ported('test_fast_path_skips_multi_encode', async () => {
    const { type, size } = await best('checker10.png', { PP_BEST_FORMAT_MAX_RESOLUTION: '0' });
    expect(size).toBeGreaterThan(0);
    expect(type.startsWith('image/')).toBe(true);
  });
});

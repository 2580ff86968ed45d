/**
 * src/modules/transform/ops/gif_anim.rs (https://github.com/ViGrise/previewproxy): frame
 * ranges (`gif_anim`) and all-frames output (`gif_af`) on upstream's three-frame GIF (red,
 * green, blue), through a real server; frames are counted and read back with sharp. A range
 * error is PreviewProxy's `InvalidParams`: 400 `invalid_params`.
 */
import sharp from 'sharp';
import { describe, expect } from 'vitest';
import { ported } from '../../../harness.js';
import { tinyGifAnim } from '../../fixtures.js';
import { enc, expectOk, expectPpError, get, ppServers, useOrigin } from '../../pp.js';

describe('src/modules/transform/ops/gif_anim.rs', () => {
  const o = useOrigin(async () => ({ '/a.gif': { body: await tinyGifAnim(), contentType: 'image/gif' } }));
  const servers = ppServers();

  const ask = async (query: string) => get(await servers.get(), `/proxy?url=${enc(`${o.url}/a.gif`)}${query}`);
  /** Frames of the answer: count, and each frame's size and top-left pixel. */
  async function frames(query: string) {
    const r = await ask(query);
    expectOk(r);
    expect(r.headers.get('content-type')).toBe('image/gif');
    const meta = await sharp(r.body).metadata();
    const pages = meta.pages ?? 1;
    return Promise.all(
      Array.from({ length: pages }, async (_, page) => {
        const { data, info } = await sharp(r.body, { page }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
        return { width: info.width, height: info.height, r: data[0] ?? 0, g: data[1] ?? 0, b: data[2] ?? 0 };
      }),
    );
  }

  ported('test_all_frames_returned_and_transformed', async () => {
    expect(await frames('&gif_anim=all&w=2&h=2')).toHaveLength(3);
  });
  ported('test_from_index_skips_earlier_frames', async () => {
    expect(await frames('&gif_anim=1')).toHaveLength(2);
  });
  ported('test_range_returns_correct_count', async () => {
    expect(await frames('&gif_anim=0-1')).toHaveLength(2);
  });
  ported('test_last_n_frames', async () => {
    expect(await frames('&gif_anim=-1')).toHaveLength(1);
  });

  ported('test_gif_af_passthrough_frames_resized', async () => {
    const f = await frames('&gif_anim=1&gif_af=1&w=2&h=2');
    expect(f).toHaveLength(3);
    for (const frame of f) expect([frame.width, frame.height]).toEqual([2, 2]);
  });

  ported('test_gif_af_passthrough_frames_not_style_transformed', async () => {
    const f = await frames('&gif_anim=1&gif_af=1&grayscale=1');
    expect(f).toHaveLength(3);
    const [first, second] = f;
    expect(first?.r).not.toBe(first?.g);
    expect(second?.r).toBe(second?.g);
    expect(second?.r).toBe(second?.b);
  });

  ported('test_inverted_range_returns_error', async () => {
    expectPpError(await ask('&gif_anim=5-2'), 400, 'invalid_params');
  });
  ported('test_from_out_of_range_returns_error', async () => {
    expectPpError(await ask('&gif_anim=99'), 400, 'invalid_params');
  });
  ported('test_last_zero_returns_error', async () => {
    expectPpError(await ask('&gif_anim=-0'), 400, 'invalid_params');
  });
  ported('test_last_n_larger_than_total_clamped', async () => {
    expect(await frames('&gif_anim=-99')).toHaveLength(3);
  });
  ported('test_range_start_out_of_range_returns_error', async () => {
    expectPpError(await ask('&gif_anim=99-200'), 400, 'invalid_params');
  });
  ported('test_range_y_clamped_to_last_frame', async () => {
    expect(await frames('&gif_anim=1-99')).toHaveLength(2);
  });
});

/**
 * src/modules/transform/pipeline.rs (https://github.com/ViGrise/previewproxy): `run_pipeline`
 * — content-type resolution, the disallow lists, pass-through, the animated-GIF path, `best`,
 * text watermarks — through a real server: upstream's `(params, bytes, content type)` become
 * a loopback origin serving those bytes with that type and a request with those params. A
 * source without a content type is a `local:/` file (PreviewProxy's local source reports
 * none; an http source without one never reaches the pipeline in PreviewProxy).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { inspect, ported } from '../../harness.js';
import { jxl, pdf, tinyGifAnim, tinyPng } from '../fixtures.js';
import { enc, expectOk, expectPpError, get, ppServers, useOrigin, useTempDir } from '../pp.js';

describe('src/modules/transform/pipeline.rs', () => {
  const dir = useTempDir('pp-pipeline-', async (d) => {
    await writeFile(join(d, 'tiny.png'), await tinyPng());
    await writeFile(join(d, 'still.jxl'), await jxl());
  });
  const o = useOrigin(async () => ({
    '/tiny.png': { body: await tinyPng(), contentType: 'image/png' },
    '/anim.gif': { body: await tinyGifAnim(), contentType: 'image/gif' },
    '/page.html': { body: Buffer.from('not an image'), contentType: 'text/html' },
    '/doc.pdf': { body: pdf(), contentType: 'application/pdf' },
  }));
  const servers = ppServers(() => ({ PP_LOCAL_ENABLED: 'true', PP_LOCAL_BASE_DIR: dir.path }));

  const png = (query = '') => `/proxy?url=${enc(`${o.url}/tiny.png`)}${query}`;
  const gif = (query = '') => `/proxy?url=${enc(`${o.url}/anim.gif`)}${query}`;
  const ask = async (path: string, env: Record<string, string> = {}) => get(await servers.get(env), path);
  const okImage = async (path: string, env: Record<string, string> = {}) => {
    const r = await ask(path, env);
    expectOk(r);
    return { r, info: await inspect(r.body), type: r.headers.get('content-type') ?? '' };
  };

  ported('test_passthrough_no_transforms', async () => {
    const { r, type } = await okImage(png());
    expect(type).toBe('image/png');
    expect(r.body.length).toBeGreaterThan(0);
  });

  ported('test_resize_and_encode_webp', async () => {
    const { type, info } = await okImage(png('&w=10&h=10&format=webp'));
    expect(type).toBe('image/webp');
    expect([info.format, info.width, info.height]).toEqual(['webp', 10, 10]);
  });

  ported('test_non_image_content_type_rejected', async () => {
    expectPpError(await ask(`/proxy?url=${enc(`${o.url}/page.html`)}`), 422, 'not_an_image');
  });

  ported('test_absent_content_type_inferred', async () => {
    const { type } = await okImage('/proxy?url=local:/tiny.png');
    expect(type.startsWith('image/')).toBe(true);
  });

  ported('test_pdf_content_type_accepted_in_resolve', async () => {
    const { info } = await okImage(`/proxy?url=${enc(`${o.url}/doc.pdf`)}`);
    expect(info.width).toBeGreaterThan(0);
  });

  ported('test_jxl_magic_bytes_detected', async () => {
    const r = await ask('/proxy?url=local:/still.jxl');
    expectOk(r);
    expect(r.headers.get('content-type')).toBe('image/jxl');
  });

  ported('test_gif_anim_all_frames_pipeline', async () => {
    const { type, info } = await okImage(gif('&gif_anim=all&w=2&h=2'));
    expect(type).toBe('image/gif');
    expect(info.pages).toBe(3);
  });

  ported('test_gif_anim_passthrough_not_taken', async () => {
    const { type, info } = await okImage(gif('&gif_anim=all'));
    expect(type).toBe('image/gif');
    expect(info.pages).toBe(3);
  });

  // Upstream expects JPEG: its static path defaults to JPEG. Its docs say the output keeps
  // the input format when none is asked for, which is what we follow (README, "Docs over code").
  ported('test_gif_anim_on_non_gif_uses_static_path', async () => {
    const { type, r } = await okImage(png('&gif_anim=all'));
    expect(type).toBe('image/png');
    expect(r.body.length).toBeGreaterThan(0);
  });

  ported('test_static_path_unaffected_no_gif_anim', async () => {
    const { type, info } = await okImage(png('&w=2&h=2&format=png'));
    expect(type).toBe('image/png');
    expect(info.format).toBe('png');
  });

  ported('test_output_disallowed_avif_returns_error', async () => {
    expectPpError(await ask(png('&format=avif'), { PP_OUTPUT_DISALLOW_LIST: 'avif' }), 400, 'transform_disabled');
  });

  ported('test_transform_disallowed_blur_returns_error', async () => {
    expectPpError(await ask(png('&blur=2'), { PP_TRANSFORM_DISALLOW_LIST: 'blur' }), 400, 'transform_disabled');
  });

  ported('test_gif_af_alone_disallowed_gif_anim_returns_error', async () => {
    expectPpError(await ask(png('&gif_af=1'), { PP_TRANSFORM_DISALLOW_LIST: 'gif_anim' }), 400, 'transform_disabled');
  });

  ported('test_allowed_ops_pass_through', async () => {
    await okImage(png('&w=4&h=4'));
  });

  ported('test_input_disallow_avif_does_not_block_avif_output', async () => {
    const allowed = await okImage(png('&format=avif'));
    expect(allowed.type).toBe('image/avif');
    expectPpError(await ask(png('&format=avif'), { PP_OUTPUT_DISALLOW_LIST: 'avif' }), 400, 'transform_disabled');
  });

  // Upstream sets format "heic" in the struct, which its parser never lets through: over HTTP
  // the same request is a 400 from the parser.
  ported('test_unknown_format_returns_unsupported_format_error', async () => {
    expect((await ask(png('&format=heic'))).status).toBe(400);
  });

  ported('test_best_format_breaks_passthrough', async () => {
    const { type, r } = await okImage(png('&format=best'));
    expect(type.startsWith('image/')).toBe(true);
    expect(r.body.length).toBeGreaterThan(0);
  });

  ported('test_best_format_by_default_no_format_set', async () => {
    const { type } = await okImage(png('&w=4'), { PP_BEST_FORMAT_BY_DEFAULT: 'true' });
    expect(type.startsWith('image/')).toBe(true);
  });

  ported('test_allow_skips_same_format_passthrough', async () => {
    await okImage(png('&format=best'), { PP_BEST_FORMAT_ALLOW_SKIPS: 'true', PP_BEST_FORMAT_COMPLEXITY_THRESHOLD: '99' });
  });

  ported('test_text_watermark_end_to_end', async () => {
    const { type } = await okImage(png('&wmt=WM&wmt_color=ffffff&wmt_size=16&wm_pos=ce&wm_opacity=0.8&format=png'));
    expect(type).toBe('image/png');
  });

  ported('test_text_watermark_disallow_blocks_wmt', async () => {
    expectPpError(await ask(png('&wmt=blocked'), { PP_TRANSFORM_DISALLOW_LIST: 'watermark' }), 400, 'transform_disabled');
  });

  ported('test_allow_skips_with_transform_does_not_skip', async () => {
    const { r } = await okImage(png('&format=best&w=2'), { PP_BEST_FORMAT_ALLOW_SKIPS: 'true' });
    expect(r.body.length).toBeGreaterThan(0);
  });
});

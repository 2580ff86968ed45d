/**
 * src/modules/proxy/dto/params.rs (https://github.com/ViGrise/previewproxy): the path and
 * query grammars, PreviewProxy's normalised values and its canonical string. Parser cases run
 * against the dialect's pure parser (`parsePpPath`, `paramsFromQuery`): a value is compared in
 * the normal form PreviewProxy signs (`Some(5.0)` of `seek` is `seek=5`, `Some(0.5)` of
 * `wm_opacity` is `0.5000`). `has_transforms` decides pass-through against re-encoding, so its
 * cases go through a real server and tell the two apart by a tEXt chunk only an unchanged
 * source keeps.
 */
import { describe, expect } from 'vitest';
import { loadConfig } from '../../../../../src/config/index.js';
import { createPreviewProxyDialect } from '../../../../../src/dialects/previewproxy/index.js';
import { canonicalString, paramsFromQuery, type PpParams } from '../../../../../src/dialects/previewproxy/params.js';
import { parsePpPath } from '../../../../../src/dialects/previewproxy/path.js';
import { differs, ported } from '../../../harness.js';
import { keepsMark, markedPng } from '../../fixtures.js';
import { enc, expectOk, get, ppCanonical, ppServers, useOrigin } from '../../pp.js';

/** `TransformParams::from_path(input)`: axum hands it the request path without its leading `/`. */
function fromPath(input: string): { p: PpParams; sig: string | undefined; url: string } {
  const r = parsePpPath(`/${input}`);
  return { p: r.params, sig: r.sig, url: r.source.kind === 'plain' ? r.source.url : `enc/${r.source.blob}` };
}

/** `from_query(map)`. */
function fromQuery(pairs: Record<string, string>): PpParams & { sig?: string } {
  const r = paramsFromQuery(new URLSearchParams(pairs));
  return r.sig === undefined ? r.params : { ...r.params, sig: r.sig };
}

const dialect = createPreviewProxyDialect(loadConfig({}));
/** The controller's `from_path` + `merge_from(from_query)`, as the canonical string it signs. */
const merged = (path: string, query: string): string => dialect.parsePath(path, new URLSearchParams(query), {}).signedPath;

const IMG = 'https://example.com/img.jpg';

describe('src/modules/proxy/dto/params.rs', () => {
  ported('test_path_parse_basic', () => {
    const { p, url } = fromPath('300x200,webp,q80/https://example.com/img.jpg');
    expect([p.w, p.h, p.format, p.q]).toEqual(['300', '200', 'webp', '80']);
    expect(url).toBe(IMG);
  });

  ported('test_path_no_options', () => {
    const { p, url } = fromPath('https://example.com/img.jpg');
    expect([p.w, p.format]).toEqual([undefined, undefined]);
    expect(url).toBe(IMG);
  });

  ported('test_watermark_url_split_uses_last_http', () => {
    const { p, url } = fromPath('wm:https://logo.png/https://example.com/img.jpg');
    expect(p.wm).toBe('https://logo.png');
    expect(url).toBe(IMG);
  });

  ported('test_canonical_string_sorted', () => {
    expect(canonicalString({ w: '300', format: 'webp' }, IMG)).toBe('format=webp&w=300:https://example.com/img.jpg');
    expect(canonicalString({ w: '300', format: 'webp' }, IMG)).toBe(ppCanonical({ w: 300, format: 'webp' }, IMG));
  });

  ported('test_canonical_string_excludes_sig', () => {
    const { p, sig, url } = fromPath('w=100,sig=abc123/https://example.com/img.jpg');
    expect(sig).toBe('abc123');
    expect(canonicalString(p, url)).toBe('w=100:https://example.com/img.jpg');
  });

  ported('test_query_merge_overrides_path', () => {
    expect(merged('/100x200/https://example.com/img.jpg', 'w=300')).toBe('h=200&w=300:https://example.com/img.jpg');
  });

  ported('test_grayscale_canonical', () => {
    const { p, url } = fromPath('grayscale/https://example.com/img.jpg');
    expect(canonicalString(p, url)).toBe('grayscale=1:https://example.com/img.jpg');
  });

  ported('test_fliph_parsed', () => {
    expect(fromPath('fliph/https://example.com/img.jpg').p.flip).toBe('h');
  });

  ported('test_t_in_canonical_string', () => {
    expect(canonicalString(fromQuery({ seek: '5.0' }), 'https://example.com/v.mp4')).toContain('seek=5');
  });

  ported('test_format_gif_accepted', () => expect(fromQuery({ format: 'gif' }).format).toBe('gif'));
  ported('test_format_avif_now_accepted', () => expect(fromQuery({ format: 'avif' }).format).toBe('avif'));
  ported('test_format_jxl_accepted', () => expect(fromQuery({ format: 'jxl' }).format).toBe('jxl'));
  ported('test_t_from_query', () => expect(fromQuery({ seek: '2.5' }).seek).toBe('2.5'));

  ported('test_t_clamped_negative', () => {
    expect(fromQuery({ seek: '-1.0' }).seek).toBe('0');
  });

  ported('test_t_from_path', () => {
    expect(fromPath('seek:5.0/https://example.com/v.mp4').p.seek).toBe('5');
  });

  ported('test_t_merge_from', () => {
    expect(merged('/seek:1.0/https://example.com/v.mp4', 'seek=9.0')).toBe('seek=9:https://example.com/v.mp4');
  });

  ported('test_blur_parsed', () => expect(fromPath('blur:3.5/https://example.com/img.jpg').p.blur).toBe('3.5'));

  ported('test_s3_no_options', () => {
    const { p, url } = fromPath('s3:/images/photo.jpg');
    expect(p.w).toBeUndefined();
    expect(url).toBe('s3:/images/photo.jpg');
  });

  ported('test_s3_with_options', () => {
    const { p, url } = fromPath('300x200,webp/s3:/images/photo.jpg');
    expect([p.w, p.h, p.format]).toEqual(['300', '200', 'webp']);
    expect(url).toBe('s3:/images/photo.jpg');
  });

  ported('test_local_no_options', () => {
    const { p, url } = fromPath('local:/srv/img.png');
    expect(p.w).toBeUndefined();
    expect(url).toBe('local:/srv/img.png');
  });

  ported('test_local_percent_encoded_no_options', () => {
    const { p, url } = fromPath('local:%2Fsrv%2Fimg.png');
    expect(p.w).toBeUndefined();
    expect(url).toBe('local:/srv/img.png');
  });

  ported('test_local_percent_encoded_with_options', () => {
    const { p, url } = fromPath('300x200/local:%2Fsrv%2Fimg.png');
    expect([p.w, p.h]).toEqual(['300', '200']);
    expect(url).toBe('local:/srv/img.png');
  });

  ported('test_alias_no_options', () => {
    const { p, url } = fromPath('mycdn:/path/img.jpg');
    expect(p.w).toBeUndefined();
    expect(url).toBe('mycdn:/path/img.jpg');
  });

  ported('test_alias_with_options', () => {
    const { p, url } = fromPath('300x200/mycdn:/path/img.jpg');
    expect([p.w, p.h]).toEqual(['300', '200']);
    expect(url).toBe('mycdn:/path/img.jpg');
  });

  ported('test_watermark_s3_image_https', () => {
    const { p, url } = fromPath('wm:s3:/overlay.png/https://example.com/img.jpg');
    expect(p.wm).toBe('s3:/overlay.png');
    expect(url).toBe(IMG);
  });

  ported('test_from_query', () => {
    const p = fromQuery({ w: '400', format: 'webp', grayscale: '1' });
    expect([p.w, p.format, p.grayscale]).toEqual(['400', 'webp', '1']);
  });

  ported('test_seek_mode_absolute_path', () => {
    expect(fromPath('seek:5.0/https://example.com/v.mp4').p.seek).toBe('5');
  });

  ported('test_seek_mode_relative_path', () => expect(fromPath('seek:0.5r/https://example.com/v.mp4').p.seek).toBe('0.5r'));
  ported('test_seek_mode_auto_path', () => expect(fromPath('seek:auto/https://example.com/v.mp4').p.seek).toBe('auto'));

  ported('test_seek_mode_relative_clamped_above_one', () => {
    expect(fromPath('seek:1.5r/https://example.com/v.mp4').p.seek).toBe('1r');
  });

  ported('test_seek_mode_absolute_negative_clamped', () => {
    expect(fromPath('seek:-1.0/https://example.com/v.mp4').p.seek).toBe('0');
  });

  ported('test_seek_mode_auto_query', () => expect(fromQuery({ seek: 'auto' }).seek).toBe('auto'));
  ported('test_seek_mode_relative_query', () => expect(fromQuery({ seek: '0.3r' }).seek).toBe('0.3r'));
  ported('test_seek_mode_canonical_auto', () => expect(canonicalString(fromQuery({ seek: 'auto' }), 'u')).toBe('seek=auto:u'));
  ported('test_seek_mode_canonical_relative', () => expect(canonicalString(fromQuery({ seek: '0.5r' }), 'u')).toBe('seek=0.5r:u'));

  ported('test_seek_mode_canonical_absolute', () => {
    expect(canonicalString(fromQuery({ seek: '5.0' }), 'u')).toBe('seek=5:u');
  });

  ported('test_gif_anim_canonical_all', () => expect(canonicalString(fromPath('gif_anim/https://x.com/a.gif').p, 'u')).toBe('gif_anim=all:u'));
  ported('test_gif_anim_canonical_from', () => expect(canonicalString(fromQuery({ gif_anim: '2' }), 'u')).toBe('gif_anim=2:u'));
  ported('test_gif_anim_canonical_range', () => expect(canonicalString(fromQuery({ gif_anim: '1-5' }), 'u')).toBe('gif_anim=1-5:u'));
  ported('test_gif_anim_canonical_last', () => expect(canonicalString(fromQuery({ gif_anim: '-3' }), 'u')).toBe('gif_anim=-3:u'));
  ported('test_gif_af_canonical_true_included', () => expect(canonicalString(fromQuery({ gif_af: 'true' }), 'u')).toContain('gif_af=1'));
  ported('test_gif_af_canonical_false_excluded', () => expect(canonicalString(fromQuery({ gif_af: 'false' }), 'u')).not.toContain('gif_af'));

  ported('test_gif_anim_path_all', () => expect(fromPath('gif_anim/https://x.com/a.gif').p.gif_anim).toBe('all'));
  ported('test_gif_anim_path_from', () => expect(fromPath('gif_anim:2/https://x.com/a.gif').p.gif_anim).toBe('2'));
  ported('test_gif_anim_path_range', () => expect(fromPath('gif_anim:1-5/https://x.com/a.gif').p.gif_anim).toBe('1-5'));
  ported('test_gif_anim_path_last', () => expect(fromPath('gif_anim:-3/https://x.com/a.gif').p.gif_anim).toBe('-3'));
  ported('test_gif_af_path', () => expect(fromPath('gif_af/https://x.com/a.gif').p.gif_af).toBe('1'));
  ported('test_gif_anim_query_all_keyword', () => expect(fromQuery({ gif_anim: 'all' }).gif_anim).toBe('all'));

  ported('test_gif_anim_query_all_empty', () => {
    expect(fromQuery({ gif_anim: '' }).gif_anim).toBe('all');
  });

  ported('test_gif_anim_query_from', () => expect(fromQuery({ gif_anim: '2' }).gif_anim).toBe('2'));
  ported('test_gif_anim_query_range', () => expect(fromQuery({ gif_anim: '1-5' }).gif_anim).toBe('1-5'));
  ported('test_gif_anim_query_last', () => expect(fromQuery({ gif_anim: '-3' }).gif_anim).toBe('-3'));
  ported('test_gif_af_query', () => expect(fromQuery({ gif_af: '1' }).gif_af).toBe('1'));
  ported('test_gif_af_query_false', () => expect(fromQuery({ gif_af: 'false' }).gif_af).toBe('0'));
  ported('test_gif_af_query_zero', () => expect(fromQuery({ gif_af: '0' }).gif_af).toBe('0'));
  ported('test_gif_anim_path_last_zero_parses_to_last_zero', () => expect(fromPath('gif_anim:-0/https://x.com/a.gif').p.gif_anim).toBe('-0'));
  ported('test_gif_anim_query_last_zero_parses_to_last_zero', () => expect(fromQuery({ gif_anim: '-0' }).gif_anim).toBe('-0'));

  ported('test_gif_anim_merge_from', () => {
    expect(merged('/gif_anim/https://x.com/a.gif', 'gif_anim=2&gif_af=1')).toBe('gif_af=1&gif_anim=2:https://x.com/a.gif');
  });

  // --- key=value and key:value in the path (PreviewProxy PR #16) ---
  const syntax: [string, string, keyof PpParams, string][] = [
    ['path_w_equals_syntax', 'w=32', 'w', '32'],
    ['path_h_equals_syntax', 'h=32', 'h', '32'],
    ['path_w_colon_syntax', 'w:32', 'w', '32'],
    ['path_h_colon_syntax', 'h:32', 'h', '32'],
    ['path_q_equals_syntax', 'q=80', 'q', '80'],
    ['path_r_equals_syntax', 'r=90', 'rotate', '90'],
    ['path_r_colon_syntax', 'r:90', 'rotate', '90'],
    ['path_rotate_equals_syntax', 'rotate=90', 'rotate', '90'],
    ['path_rotate_colon_syntax', 'rotate:90', 'rotate', '90'],
    ['path_fit_equals_syntax', 'fit=cover', 'fit', 'cover'],
    ['path_fit_colon_syntax', 'fit:cover', 'fit', 'cover'],
    ['path_format_equals_syntax', 'format=webp', 'format', 'webp'],
    ['path_format_colon_syntax', 'format:webp', 'format', 'webp'],
    ['path_flip_equals_syntax', 'flip=h', 'flip', 'h'],
    ['path_flip_colon_syntax', 'flip:h', 'flip', 'h'],
    ['path_grayscale_equals_syntax', 'grayscale=1', 'grayscale', '1'],
    ['path_grayscale_colon_syntax', 'grayscale:1', 'grayscale', '1'],
    ['path_blur_equals_syntax', 'blur=3.5', 'blur', '3.5'],
    ['path_bright_equals_syntax', 'bright=10', 'bright', '10'],
    ['path_contrast_equals_syntax', 'contrast=-5', 'contrast', '-5'],
  ];
  for (const [name, token, key, want] of syntax) {
    ported(name, () => expect(fromPath(`${token}/https://example.com/img.jpg`).p[key]).toBe(want));
  }

  ported('path_seek_equals_syntax', () => {
    expect(fromPath('seek=5.0/https://example.com/v.mp4').p.seek).toBe('5');
  });

  ported('path_gif_anim_equals_syntax', () => expect(fromPath('gif_anim=2/https://example.com/a.gif').p.gif_anim).toBe('2'));
  ported('path_gif_af_equals_syntax', () => expect(fromPath('gif_af=1/https://example.com/a.gif').p.gif_af).toBe('1'));
  ported('path_wm_equals_syntax', () => expect(fromPath('wm=https://logo.png/https://example.com/img.jpg').p.wm).toBe('https://logo.png'));
  ported('path_sig_equals_syntax', () => expect(fromPath('sig=abc123/https://example.com/img.jpg').sig).toBe('abc123'));

  // --- path style against query style: the same TransformParams ---
  const parity: [string, string, Record<string, string>, keyof PpParams | 'sig'][] = [
    ['parity_dimensions', '300x200', { w: '300', h: '200' }, 'w'],
    ['parity_quality', 'q80', { q: '80' }, 'q'],
    ['parity_rotate', 'r90', { rotate: '90' }, 'rotate'],
    ['parity_blur', 'blur:3.5', { blur: '3.5' }, 'blur'],
    ['parity_bright', 'bright:10', { bright: '10' }, 'bright'],
    ['parity_contrast', 'contrast:-5', { contrast: '-5' }, 'contrast'],
    ['parity_fliph', 'fliph', { flip: 'h' }, 'flip'],
    ['parity_flipv', 'flipv', { flip: 'v' }, 'flip'],
    ['parity_grayscale', 'grayscale', { grayscale: '1' }, 'grayscale'],
    ['parity_seek_absolute', 'seek:5.0', { seek: '5.0' }, 'seek'],
    ['parity_seek_relative', 'seek:0.5r', { seek: '0.5r' }, 'seek'],
    ['parity_seek_auto', 'seek:auto', { seek: 'auto' }, 'seek'],
    ['parity_gif_anim_all', 'gif_anim', { gif_anim: 'all' }, 'gif_anim'],
    ['parity_gif_anim_from', 'gif_anim:2', { gif_anim: '2' }, 'gif_anim'],
    ['parity_gif_anim_range', 'gif_anim:1-5', { gif_anim: '1-5' }, 'gif_anim'],
    ['parity_gif_anim_last', 'gif_anim:-3', { gif_anim: '-3' }, 'gif_anim'],
    ['parity_gif_af', 'gif_af', { gif_af: '1' }, 'gif_af'],
    ['parity_wm', 'wm:https://logo.png', { wm: 'https://logo.png' }, 'wm'],
    ['parity_sig', 'sig:abc123', { sig: 'abc123' }, 'sig'],
  ];
  for (const [name, token, query, key] of parity) {
    ported(name, () => {
      const path = fromPath(`${token}/https://example.com/img.jpg`);
      const fromPathValue = key === 'sig' ? path.sig : path.p[key];
      expect(fromPathValue).toBeDefined();
      expect(fromPathValue).toBe(fromQuery(query)[key]);
      if (key === 'w') expect(path.p.h).toBe(fromQuery(query).h);
    });
  }
  ported('parity_fit', () => {
    for (const fit of ['contain', 'cover', 'crop']) expect(fromPath(`${fit}/https://example.com/img.jpg`).p.fit, fit).toBe(fromQuery({ fit }).fit);
  });
  ported('parity_format', () => {
    for (const format of ['webp', 'jpeg', 'png', 'avif', 'gif', 'bmp', 'tiff', 'ico', 'jxl']) {
      expect(fromPath(`${format}/https://example.com/img.jpg`).p.format, format).toBe(fromQuery({ format }).format);
    }
  });

  ported('test_from_path_enc_with_params', () => {
    const { p, url } = fromPath('300x200/enc/ENCRYPTEDBLOB123');
    expect([p.w, p.h]).toEqual(['300', '200']);
    expect(url).toBe('enc/ENCRYPTEDBLOB123');
  });

  ported('test_from_path_enc_no_params', () => {
    const { p, url } = fromPath('enc/ENCRYPTEDBLOB123');
    expect(p.w).toBeUndefined();
    expect(url).toBe('enc/ENCRYPTEDBLOB123');
  });

  ported('test_from_path_enc_url_starts_with_enc_prefix', () => expect(fromPath('q80/enc/someblob').url.startsWith('enc/')).toBe(true));

  differs(
    'a blob is base64url, so `/enc/` splits only before one; PreviewProxy splits at any `/enc/`, which breaks sources like https://host/enc/a.jpg',
    'test_from_path_enc_blob_containing_alias_url',
    () => {
      // PreviewProxy: url = "enc/cdn:/uploads/file.pdf". Here `cdn:/…` is no blob, so this is not an encrypted source…
      expect(() => fromPath('32x32/enc/cdn:/uploads/file.pdf')).toThrow();
      // …and that is what keeps a plain source with /enc/ in its path working.
      const { p, url } = fromPath('32x32/https://host.example/enc/a.jpg');
      expect([p.w, p.h, url]).toEqual(['32', '32', 'https://host.example/enc/a.jpg']);
    },
  );

  ported('new_wm_fields_default_none', () => {
    const { p } = fromPath('https://example.com/img.jpg');
    for (const k of ['wm_opacity', 'wm_pos', 'wm_x', 'wm_y', 'wm_scale', 'wmt', 'wmt_color', 'wmt_size', 'wmt_font'] as const) expect(p[k], k).toBeUndefined();
  });

  ported('path_parse_wm_opacity', () => expect(fromPath('wm_opacity:0.5/https://example.com/img.jpg').p.wm_opacity).toBe('0.5000'));
  ported('path_parse_wm_pos', () => expect(fromPath('wm_pos:ce/https://example.com/img.jpg').p.wm_pos).toBe('ce'));

  ported('path_parse_wm_x_y_scale', () => {
    const { p } = fromPath('wm_x:10,wm_y:-5,wm_scale:0.2/https://example.com/img.jpg');
    expect([p.wm_x, p.wm_y, p.wm_scale]).toEqual(['10', '-5', '0.2000']);
  });

  ported('path_parse_wmt', () => expect(fromPath('wmt:Hello/https://example.com/img.jpg').p.wmt).toBe('Hello'));

  ported('path_parse_wmt_styling', () => {
    const { p } = fromPath('wmt_color:ff0000,wmt_size:32,wmt_font:sans/https://example.com/img.jpg');
    expect([p.wmt_color, p.wmt_size, p.wmt_font]).toEqual(['ff0000', '32', 'sans']);
  });

  ported('query_parse_wm_new_params', () => {
    const p = fromQuery({ wm_opacity: '0.8', wm_pos: 'noea', wm_x: '5', wm_y: '-3', wm_scale: '0.1', wmt: 'WM', wmt_color: 'ffffff', wmt_size: '18', wmt_font: 'sans' });
    expect([p.wm_opacity, p.wm_pos, p.wm_x, p.wm_y, p.wm_scale, p.wmt, p.wmt_color, p.wmt_size, p.wmt_font]).toEqual(['0.8000', 'noea', '5', '-3', '0.1000', 'WM', 'ffffff', '18', 'sans']);
  });

  ported('test_relative_path_no_scheme_parsed_as_url', () => {
    const { p, url } = fromPath('build/logo.BnUd846k_Z10Q0xM.webp');
    expect([p.w, p.format]).toEqual([undefined, undefined]);
    expect(url).toBe('build/logo.BnUd846k_Z10Q0xM.webp');
  });

  ported('test_relative_path_with_leading_slash_parsed_as_url', () => {
    const { p, url } = fromPath('/assets/img.png');
    expect(p.w).toBeUndefined();
    expect(url).toBe('/assets/img.png');
  });

  ported('test_transforms_before_relative_path_errors', () => expect(() => fromPath('300x200/build/logo.webp')).toThrow(/absolute source URL/));
  ported('test_format_transform_before_relative_path_errors', () => expect(() => fromPath('webp/build/logo.webp')).toThrow(/absolute source URL/));
});

// `has_transforms` / `has_non_format_transforms`: pass-through (the source unchanged, its
// tEXt chunk kept) against the pipeline (re-encoded, chunk gone), through a real server.
describe('src/modules/proxy/dto/params.rs (has_transforms, through HTTP)', () => {
  const o = useOrigin(async () => ({ '/m.png': { body: await markedPng(), contentType: 'image/png' } }));
  const servers = ppServers();
  const ask = async (query: string, env: Record<string, string> = {}) => {
    const r = await get(await servers.get(env), `/proxy?url=${enc(`${o.url}/m.png`)}${query}`);
    expectOk(r);
    return r;
  };
  const reencoded = async (query: string, env?: Record<string, string>) => expect(keepsMark((await ask(query, env)).body)).toBe(false);
  const passedThrough = async (query: string, env?: Record<string, string>) => expect(keepsMark((await ask(query, env)).body)).toBe(true);

  ported('test_has_transforms_true', () => reencoded('&w=100'));
  ported('test_has_transforms_false', () => passedThrough(''));
  ported('test_has_transforms_t_only', () => reencoded('&seek=3'));
  ported('test_has_transforms_best_format', () => reencoded('&format=best'));

  const skips = { PP_BEST_FORMAT_ALLOW_SKIPS: 'true', PP_BEST_FORMAT_PREFERRED_FORMATS: 'png' };
  ported('test_has_non_format_transforms_false_with_only_format',
    () => passedThrough('&format=best&q=85', skips),
  );
  ported('test_has_non_format_transforms_true_with_resize', async () => {
    const r = await ask('&format=best&w=100', skips);
    expect(keepsMark(r.body)).toBe(false);
  });

  ported('test_has_transforms_seek_auto', () => reencoded('&seek=auto'));
  ported('test_gif_anim_has_transforms', () => reencoded('&gif_anim=all'));
  ported('test_gif_anim_has_transforms_from_variant', () => reencoded('&gif_anim=1'));
  ported('test_gif_af_alone_does_not_trigger_has_transforms', () => passedThrough('&gif_af=1'));
  ported('wmt_counts_as_transform', () => reencoded('&wmt=hello'));
});

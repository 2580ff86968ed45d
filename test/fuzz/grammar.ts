/**
 * fast-check arbitraries for both URL grammars, for the fuzz suite: imgproxy paths (signed,
 * every option name and alias with arguments shaped like that option's, presets, plain and
 * base64 sources, /info) and PreviewProxy paths and `/proxy?url=` queries (every parameter).
 * Numbers come from the dialects' own range tables: their edges, just past them, and the
 * values that broke sharp before (1e308, NaN, hex, 2^53+1, empty).
 */
import fc from 'fast-check';
import { ARG_RANGES, type ArgKey } from '../../src/dialects/imgproxy/arg-ranges.js';
import { encryptSourceUrl } from '../../src/dialects/imgproxy/encryption.js';
import { sign } from '../../src/dialects/imgproxy/signature.js';
import { OPTION_TABLE } from '../../src/dialects/imgproxy/option-table.js';
import { PP_KEYS, PP_RANGES } from '../../src/dialects/previewproxy/params.js';
import type { NumberSpec } from '../../src/dialects/numeric.js';
import { INFO_OPTIONS } from '../../src/processing/info-options.js';

export interface GrammarContext {
  /** `http://127.0.0.1:port` of the origin. */
  readonly origin: string;
  /** Paths the origin serves (images, and a few that are not). */
  readonly files: readonly string[];
  readonly key: Buffer;
  readonly salt: Buffer;
  /** IMGPROXY_SOURCE_URL_ENCRYPTION_KEY of the imgproxy server. */
  readonly encKey: Buffer;
  readonly presets: readonly string[];
  /** The configured watermark URL (also a source `wm`/`watermark_url` may name). */
  readonly watermarkUrl: string;
}

/** Values that broke parsers or sharp somewhere, for any numeric slot. */
const HOSTILE = ['', 'NaN', 'Infinity', '-Infinity', 'inf', 'nan', '1e308', '-1e308', '1e-308', '5e-324', '0x10', '0x1p3', '1e', '.', '-', '+', '00', '-0', '9007199254740993', '18446744073709551616', '1_0', ' 1', '１'];

/** Past sharp's and libvips' own limits (sharpen 10, blur 1000, 8-bit 255, 2^16, 10⁷…). */
const BIG = ['11', '101', '256', '1001', '65536', '1e6', '10000001', '1e9', '1e15', '1e308', '-1e6', '-1e308'];

const str = (n: number): string => (Number.isInteger(n) && Math.abs(n) < 1e21 ? BigInt(n).toString() : String(n));

/** Edges of a spec, a step past them, and a few values inside. */
function numberArb(spec: NumberSpec, typical: fc.Arbitrary<number>): fc.Arbitrary<string> {
  const finite = (n: number): boolean => Number.isFinite(n) && Math.abs(n) < Number.MAX_SAFE_INTEGER;
  const edges = [spec.min, spec.max].filter(finite).flatMap((e) => [e, e - 1, e + 1, spec.kind === 'float' ? e + 0.5 : e]);
  const inside = spec.kind === 'int' ? typical.map((n) => Math.round(n)) : typical;
  return fc.oneof(
    { weight: 10, arbitrary: inside.map(str) },
    { weight: 2, arbitrary: edges.length > 0 ? fc.constantFrom(...edges.map(str)) : fc.constant('0') },
    // Large values whatever the table says, in case the table is what is wrong.
    { weight: 2, arbitrary: fc.constantFrom(...BIG) },
    { weight: 1, arbitrary: fc.constantFrom(...HOSTILE) },
    { weight: 1, arbitrary: fc.oneof(fc.integer().map(String), fc.double().map(String)) },
  );
}

const small = fc.integer({ min: 0, max: 300 });
const TYPICAL: Partial<Record<ArgKey, fc.Arbitrary<number>>> = {
  zoom: fc.double({ min: 0.1, max: 3, noNaN: true }),
  dpr: fc.double({ min: 0.5, max: 4, noNaN: true }),
  'gravity offset': fc.oneof(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: -50, max: 50 })),
  'focus point': fc.double({ min: 0, max: 1, noNaN: true }),
  'crop size': fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 1, max: 80 })),
  'trim threshold': fc.integer({ min: 0, max: 60 }),
  padding: fc.integer({ min: 0, max: 40 }),
  rotate: fc.constantFrom(0, 90, 180, 270, -90, 450, 45),
  'background channel': fc.integer({ min: 0, max: 255 }),
  brightness: fc.integer({ min: -255, max: 255 }),
  contrast: fc.double({ min: 0, max: 3, noNaN: true }),
  saturation: fc.double({ min: 0, max: 3, noNaN: true }),
  'monochrome intensity': fc.double({ min: 0, max: 1, noNaN: true }),
  blur: fc.double({ min: 0, max: 5, noNaN: true }),
  sharpen: fc.double({ min: 0, max: 3, noNaN: true }),
  pixelate: fc.integer({ min: 0, max: 20 }),
  'watermark opacity': fc.double({ min: 0, max: 1, noNaN: true }),
  'watermark offset': fc.integer({ min: -20, max: 20 }),
  'watermark scale': fc.double({ min: 0, max: 1, noNaN: true }),
  'watermark size': fc.integer({ min: 0, max: 120 }),
  'watermark rotate': fc.constantFrom(0, 90, -45, 30, 361),
  'watermark shadow': fc.double({ min: 0, max: 4, noNaN: true }),
  quality: fc.integer({ min: 0, max: 100 }),
  'format quality': fc.integer({ min: 0, max: 100 }),
  max_bytes: fc.constantFrom(0, 500, 2000, 100000),
  page: fc.integer({ min: 0, max: 3 }),
  pages: fc.integer({ min: 1, max: 3 }),
  video_thumbnail_second: fc.double({ min: 0, max: 8, noNaN: true }),
  expires: fc.constantFrom(0, 4102444800, 1, -1),
  max_src_resolution: fc.constantFrom(0.001, 1, 50),
  max_src_file_size: fc.constantFrom(0, 100, 1_000_000),
  max_animation_frames: fc.integer({ min: 1, max: 4 }),
  max_animation_frame_resolution: fc.constantFrom(0, 0.001, 1),
  'crop aspect ratio': fc.constantFrom(0, 0.5, 1, 1.5, 16 / 9, 3),
  'background alpha': fc.double({ min: 0, max: 1, noNaN: true }),
  'duotone intensity': fc.double({ min: 0, max: 1, noNaN: true }),
  'unsharp masking weight': fc.double({ min: 0.1, max: 5, noNaN: true }),
  'unsharp masking divider': fc.double({ min: 1, max: 48, noNaN: true }),
  'area blur sigma': fc.double({ min: 0, max: 5, noNaN: true }),
  'blur area': fc.double({ min: 0, max: 1, noNaN: true }),
  'progressive blur sigma': fc.double({ min: 0, max: 5, noNaN: true }),
  'ramp angle': fc.integer({ min: -360, max: 720 }),
  'ramp position': fc.double({ min: -0.5, max: 1.5, noNaN: true }),
  'colorize opacity': fc.double({ min: 0, max: 1, noNaN: true }),
  'gradient opacity': fc.double({ min: 0, max: 1, noNaN: true }),
  dpi: fc.constantFrom(0, 72, 96, 300, 600),
  'autoquality target': fc.constantFrom(0.001, 0.02, 0.5, 500, 20000),
  'autoquality quality': fc.integer({ min: 1, max: 100 }),
  'autoquality allowed error': fc.constantFrom(0, 0.001, 0.01, 1),
  'jpeg quant table': fc.integer({ min: 0, max: 8 }),
  'png quantization colors': fc.integer({ min: 2, max: 256 }),
};

const num = (key: ArgKey): fc.Arbitrary<string> => numberArb(ARG_RANGES[key], TYPICAL[key] ?? small);

const GRAVITIES = ['no', 'so', 'ea', 'we', 'noea', 'nowe', 'soea', 'sowe', 'ce', 'sm', 'fp', 're', 'obj', 'xx'];
const FORMATS = ['jpg', 'jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'svg', 'bmp', 'ico', 'heic', 'jxl', 'best', 'pdf', 'x'];
const bool = fc.constantFrom('1', '0', 't', 'f', 'true', 'false', 'yes', '');
const gravity = fc.constantFrom(...GRAVITIES);
const format = fc.constantFrom(...FORMATS);
const color = fc.oneof(fc.constantFrom('fff', 'ff0000', 'FF00FF', '000', 'zzz', '12345', ''), fc.stringMatching(/^[0-9a-f]{6}$/));
/**
 * Text for `watermark_text`: Pango markup the subset takes, markup it refuses (other tags and
 * attributes, huge sizes, deep nesting), and any string at all.
 */
const watermarkText = fc.oneof(
  fc.constantFrom('©', '<b>x</b> y', '<span foreground="#f00" size="20pt">r</span>', '<span size="2000000000">x</span>', `${'<big>'.repeat(20)}x`, '<script>x</script>', '<span onload="x">a</span>', 'a < b', '&bogus;', 'a\nb\u0301\u0301\u0301', ''),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

/** Names of every script, controls and quotes, as `filename` receives them (base64 or not). */
const fileName = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.constantFrom('日本', '😀.png', 'a\u202Egnp.exe', 'nul\0', 'del\x7F', 'é', 'a"b', 'a\\b', 'x'.repeat(300)));

/** Per option (canonical name), its argument slots, each shaped like that argument. */
export function optionSlots(ctx: GrammarContext): Record<string, fc.Arbitrary<string>[]> {
  const offsets = [num('gravity offset'), num('gravity offset')];
  const extend = [bool, gravity, ...offsets];
  return {
    resize: [fc.constantFrom('fit', 'fill', 'fill-down', 'force', 'auto', ''), num('width'), num('height'), bool, ...extend],
    size: [num('width'), num('height'), bool, ...extend],
    resizing_type: [fc.constantFrom('fit', 'fill', 'fill-down', 'force', 'auto', 'crop')],
    resizing_algorithm: [fc.constantFrom('nearest', 'linear', 'cubic', 'lanczos2', 'lanczos3', 'x')],
    width: [num('width')], height: [num('height')], 'min-width': [num('min-width')], 'min-height': [num('min-height')],
    zoom: [num('zoom'), num('zoom')], dpr: [num('dpr')],
    extend, extend_aspect_ratio: extend,
    gravity: [gravity, fc.oneof(num('gravity offset'), num('focus point')), fc.oneof(num('gravity offset'), num('focus point'))],
    crop: [num('crop size'), num('crop size'), gravity, ...offsets],
    trim: [num('trim threshold'), color, bool, bool],
    padding: [num('padding'), num('padding'), num('padding'), num('padding')],
    rotate: [num('rotate')], flip: [bool, bool],
    ...Object.fromEntries(['enlarge', 'auto_rotate', 'strip_metadata', 'keep_copyright', 'strip_color_profile', 'preserve_hdr', 'enforce_thumbnail', 'disable_animation', 'raw', 'return_attachment', 'bypass_cache'].map((n) => [n, [bool]])),
    background: [fc.oneof(color, num('background channel')), num('background channel'), num('background channel')],
    adjust: [num('brightness'), num('contrast'), num('saturation')],
    brightness: [num('brightness')], contrast: [num('contrast')], saturation: [num('saturation')],
    monochrome: [num('monochrome intensity'), color],
    blur: [num('blur')], sharpen: [num('sharpen')], pixelate: [num('pixelate')],
    watermark: [num('watermark opacity'), fc.constantFrom('ce', 'no', 'so', 'ea', 'we', 'noea', 'nowe', 'soea', 'sowe', 're', 'ch', ''), num('watermark offset'), num('watermark offset'), num('watermark scale')],
    watermark_url: [fc.constantFrom(ctx.watermarkUrl, `${ctx.origin}/a.png`, `${ctx.origin}/missing.png`, 'local:///a.png', 'ftp://x/y.png', 'relative.png', '').map((u) => Buffer.from(u).toString('base64url'))],
    watermark_text: [watermarkText.map((t) => Buffer.from(t).toString('base64url'))],
    watermark_size: [num('watermark size'), num('watermark size')],
    watermark_rotate: [num('watermark rotate')],
    watermark_shadow: [num('watermark shadow')],
    quality: [num('quality')],
    format_quality: [format, num('format quality'), format, num('format quality')],
    max_bytes: [num('max_bytes')], format: [format], page: [num('page')], pages: [num('pages')],
    video_thumbnail_second: [num('video_thumbnail_second')], video_thumbnail_keyframes: [bool],
    skip_processing: [format, format],
    autoquality: [fc.constantFrom('none', 'size', 'dssim', 'ml', 'x', ''), num('autoquality target'), num('autoquality quality'), num('autoquality quality'), num('autoquality allowed error')],
    jpeg_options: [bool, bool, bool, bool, bool, num('jpeg quant table')],
    png_options: [bool, bool, num('png quantization colors')],
    webp_options: [fc.constantFrom('lossy', 'near_lossless', 'lossless', 'x', ''), bool, fc.constantFrom('default', 'photo', 'picture', 'drawing', 'icon', 'text', 'x', '')],
    avif_options: [fc.constantFrom('auto', 'on', 'off', 'x', '')],
    cachebuster: [fc.string({ maxLength: 8 })],
    // Valid tags, separators a tag may not hold, over-long ones (64 is the limit).
    cache_tags: Array.from({ length: 3 }, () => fc.oneof(fc.constantFrom('red', 'product-42', 'a,b', '"q"', ''), fc.string({ maxLength: 70 }).map(encodeURIComponent))),
    expires: [num('expires')],
    filename: [fc.oneof(fileName.map((n) => encodeURIComponent(n)), fileName.map((n) => Buffer.from(n).toString('base64url'))), bool],
    // The origin's files (images and not), other hosts and schemes, and what is no base64 at all.
    fallback_image_url: [
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...ctx.files).map((f) => Buffer.from(`${ctx.origin}${f}`).toString('base64url')) },
        { weight: 1, arbitrary: fc.constantFrom('local:///a.png', 'http://[::1', 'ftp://x/y.png', '').map((u) => Buffer.from(u).toString('base64url')) },
        { weight: 1, arbitrary: fc.constantFrom('@@@', '=', 'x') },
      ),
    ],
    preset: [fc.constantFrom(...ctx.presets, 'nope'), fc.constantFrom(...ctx.presets)],
    crop_aspect_ratio: [num('crop aspect ratio'), bool],
    background_alpha: [num('background alpha')],
    duotone: [num('duotone intensity'), color, color],
    unsharp_masking: [fc.constantFrom('auto', 'none', 'always', 'x', ''), num('unsharp masking weight'), num('unsharp masking divider')],
    blur_areas: [num('area blur sigma'), ...Array.from({ length: 8 }, () => num('blur area'))],
    progressive_blur: [num('progressive blur sigma'), fc.oneof(fc.constantFrom('down', 'up', 'left', 'right', 'sideways'), num('ramp angle')), num('ramp position'), num('ramp position')],
    colorize: [num('colorize opacity'), color, bool],
    gradient: [num('gradient opacity'), color, fc.oneof(fc.constantFrom('down', 'up', 'left', 'right'), num('ramp angle')), num('ramp position'), num('ramp position')],
    style: [fc.oneof(fc.constantFrom('rect{fill:red}', '@import "http://127.0.0.1/x.css";', '</style><script>x</script>', 'a{b:url(http://127.0.0.1/)}').map((c) => Buffer.from(c).toString('base64url')), fc.constantFrom('', '!!', 'a+b'))],
    dpi: [num('dpi')],
    color_profile: [fc.constantFrom('srgb', 'p3', 'cmyk', 'CMYK', 'missing', '..', '%2E%2E%2Fetc%2Fpasswd', 'a%2Fb', '%00', '')],
    objects_position: [fc.constantFrom('ce', 'no', 'soea', 'fp', 'prop', 'sm', 'obj'), fc.oneof(num('gravity offset'), num('focus point')), fc.oneof(num('gravity offset'), num('focus point'))],
    crop_objects: [fc.constantFrom('1', '1.2', '0'), fc.constantFrom('face', 'all', '')],
    blur_detections: [num('blur'), fc.constantFrom('face', 'all', '')],
    draw_detections: [bool, fc.constantFrom('face', 'all', '')],
    max_src_resolution: [num('max_src_resolution')],
    max_src_file_size: [num('max_src_file_size')],
    max_animation_frames: [num('max_animation_frames')],
    max_animation_frame_resolution: [num('max_animation_frame_resolution')],
    // Kept within 1–1024: in this run max_result_dimension is what bounds each request's
    // work (the server is started with IMGPROXY_MAX_RESULT_DIMENSION=1024), and the point is
    // to find 500s, not to time how long a 10⁷-pixel-wide result takes.
    max_result_dimension: [fc.oneof(fc.integer({ min: 1, max: 1024 }).map(String), fc.constantFrom('x', '', '1.5'))],
  };
}

/** Arguments for one option: its slots, mostly a prefix of them, sometimes one too many. */
function argsFor(shaped: fc.Arbitrary<string>[]): fc.Arbitrary<string[]> {
  return fc.tuple(...shaped, fc.oneof(num('width'), bool, fc.constant(''))).chain((all) =>
    fc.nat({ max: 100 }).map((r) => {
      const full = all.slice(0, shaped.length);
      if (r < 8) return [...full, all[shaped.length] ?? ''];
      const n = 1 + (r % shaped.length);
      return full.slice(0, n);
    }),
  );
}

const IMGPROXY_NAMES = OPTION_TABLE.flatMap((o) => [o.name, ...o.aliases].map((alias) => ({ alias, name: o.name })));

function optionArb(ctx: GrammarContext): fc.Arbitrary<string> {
  const slots = optionSlots(ctx);
  const args = new Map(OPTION_TABLE.map((o) => [o.name, argsFor(slots[o.name] ?? [bool])]));
  return fc.oneof(
    { weight: 30, arbitrary: fc.constantFrom(...IMGPROXY_NAMES).chain(({ alias, name }) => (args.get(name) ?? fc.constant([])).map((a) => `${alias}:${a.join(':')}`)) },
    { weight: 1, arbitrary: fc.constantFrom('unknown:1', 'obj:1', 'g:obj', 'crop_objects:1', 'ba:1:1', ':', '::', 'w', 'w::', '%3A', 'rs%3Afill%3A10%3A10') },
    // Pro's chained pipelines: the next options start a new pipeline.
    { weight: 3, arbitrary: fc.constant('-') },
  );
}

/** A `/`-free piece of a source path: mostly the origin's files, sometimes odd escapes. */
function sourceArb(ctx: GrammarContext): fc.Arbitrary<{ url: string; ext: string }> {
  const file = fc.constantFrom(...ctx.files);
  const url = fc.oneof(
    { weight: 12, arbitrary: file.map((f) => `${ctx.origin}${f}`) },
    { weight: 1, arbitrary: fc.constantFrom('local:///a.png', 'local:///../../etc/passwd', 's3://bucket/key.png', 'ftp://x/y.png', 'http://', 'http://[::1', '') },
    { weight: 1, arbitrary: fc.tuple(file, fc.string({ unit: 'binary', maxLength: 6 })).map(([f, junk]) => `${ctx.origin}${f}?${encodeURIComponent(junk)}`) },
  );
  return fc.record({ url, ext: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: format }) });
}

function imgproxySource(ctx: GrammarContext): fc.Arbitrary<string> {
  return fc.tuple(sourceArb(ctx), fc.nat({ max: 11 }), fc.nat({ max: 40 })).map(([{ url, ext }, how, cut]) => {
    if (how < 6) return `plain/${url.replace(/%/g, '%25').replace(/\?/g, '%3F').replace(/@/g, '%40')}${ext ? `@${ext}` : ''}`;
    if (how >= 10) {
      // imgproxy Pro's `enc/`: a real blob, or one cut short (a bad block, a bad padding).
      const blob = encryptSourceUrl(url, ctx.encKey);
      return `enc/${how === 11 ? blob.slice(0, Math.max(1, blob.length - 1 - (cut % 30))) : blob}${ext ? `.${ext}` : ''}`;
    }
    const b64 = Buffer.from(url).toString('base64url');
    // base64 may be split by `/` anywhere (imgproxy joins the segments).
    const split = how === 9 && b64.length > cut ? `${b64.slice(0, cut)}/${b64.slice(cut)}` : b64;
    return `${split}${ext ? `.${ext}` : ''}`;
  });
}

const INFO_NAMES = INFO_OPTIONS.flatMap((o) => [o.name, ...o.aliases]);

/** A request path for the imgproxy dialect server, signed most of the time. */
export function imgproxyPath(ctx: GrammarContext): fc.Arbitrary<string> {
  const options = fc.array(optionArb(ctx), { maxLength: 5 });
  const infoArg = fc.oneof(bool, num('page'), num('max_src_resolution'), fc.constantFrom('md5', 'sha1', 'sha256', 'xxh64', 'dhash'));
  const info = fc.array(fc.tuple(fc.constantFrom(...INFO_NAMES), fc.array(infoArg, { minLength: 1, maxLength: 2 })).map(([n, v]) => `${n}:${v.join(':')}`), { maxLength: 3 });
  return fc.tuple(fc.nat({ max: 19 }), fc.nat({ max: 19 }), options, info, imgproxySource(ctx), fc.constantFrom('', '/', '//')).map(([r, kind, opts, infoOpts, source, lead]) => {
    const isInfo = kind === 0;
    const body = `${lead}${[...(isInfo ? infoOpts : opts), source].join('/')}`;
    // What the server signs: one leading `/` dropped, then one put back (handlers/path.go).
    const signed = body.startsWith('/') ? body : `/${body}`;
    const sig = r < 18 ? sign(signed.replace(/^\/{1,2}/, '/'), ctx.key, ctx.salt) : r === 18 ? 'unsafe' : 'AAAA';
    return `${isInfo ? '/info' : ''}/${sig}/${body}`;
  });
}

// ---- PreviewProxy ----

const ppRange = (key: keyof typeof PP_RANGES, typical: fc.Arbitrary<number>): fc.Arbitrary<string> => numberArb(PP_RANGES[key], typical);

function ppValue(key: (typeof PP_KEYS)[number], ctx: GrammarContext): fc.Arbitrary<string> {
  switch (key) {
    case 'w': case 'h': return ppRange(key, fc.integer({ min: 0, max: 400 }));
    case 'q': return ppRange('q', fc.integer({ min: 0, max: 120 }));
    case 'rotate': return ppRange('rotate', fc.constantFrom(0, 90, 180, 270, 45));
    case 'bright': case 'contrast': return ppRange(key, fc.integer({ min: -150, max: 150 }));
    case 'blur': return ppRange('blur', fc.double({ min: 0, max: 5, noNaN: true }));
    case 'wm_opacity': return ppRange('wm_opacity', fc.double({ min: 0, max: 1, noNaN: true }));
    case 'wm_x': case 'wm_y': return ppRange(key, fc.integer({ min: -30, max: 30 }));
    case 'wm_scale': return ppRange('wm_scale', fc.double({ min: 0, max: 1, noNaN: true }));
    case 'fit': return fc.constantFrom('contain', 'cover', 'crop', 'fill', '');
    case 'format': return fc.constantFrom('jpeg', 'png', 'webp', 'avif', 'gif', 'bmp', 'tiff', 'ico', 'jxl', 'best', 'svg');
    case 'flip': return fc.constantFrom('h', 'v', 'x');
    case 'grayscale': case 'gif_af': return fc.constantFrom('1', 'true', '0', 'yes');
    case 'wm': return fc.constantFrom(ctx.watermarkUrl, ctx.watermarkUrl, `${ctx.origin}/other.png`, 'local:/a.png', 's3:/x.png', 'alias:/x.png', 'relative.png', 'http://');
    case 'wmt': return fc.string({ unit: 'grapheme', maxLength: 20 });
    case 'wmt_color': return fc.constantFrom('ff0000', '#00ff00', '+f+f+f', 'fff', 'gg0000', 'aé000', '');
    case 'wmt_size': return ppRange('wmt_size', fc.integer({ min: 0, max: 80 }));
    case 'wmt_font': return fc.constantFrom('sans', 'DejaVuSerif', '../x', 'nosuch', '');
    case 'gif_anim': return fc.constantFrom('all', '', '0', '1', '2-5', '5-2', '-1', '-0', '-99', '1-', 'x', '18446744073709551616');
    case 'wm_pos': return fc.constantFrom('ce', 'center', 'top', 'tr', 'bottom-left', 're', 'repeat', 'nowhere');
    default: return fc.string({ maxLength: 6 });
  }
}

const ppPair = (ctx: GrammarContext): fc.Arbitrary<[string, string]> =>
  fc.constantFrom(...PP_KEYS).chain((k) => ppValue(k, ctx).map((v) => [k, v] as [string, string]));

/** `/<tokens>/<source>` for the previewproxy-path server, tokens in every spelling. */
export function previewproxyPath(ctx: GrammarContext): fc.Arbitrary<string> {
  const token = fc.oneof(
    ppPair(ctx).chain(([k, v]) => fc.constantFrom(`${k}=${v}`, `${k}:${v}`)),
    fc.tuple(ppValue('w', ctx), ppValue('h', ctx)).map(([w, h]) => `${w}x${h}`),
    ppValue('q', ctx).map((q) => `q${q}`),
    ppValue('rotate', ctx).map((r) => `r${r}`),
    fc.constantFrom('contain', 'cover', 'crop', 'webp', 'png', 'jpeg', 'avif', 'gif', 'bmp', 'tiff', 'ico', 'jxl', 'fliph', 'flipv', 'grayscale', 'gif_anim', 'gif_af', 'best', 'bogus', ''),
  );
  return fc.tuple(fc.array(token, { maxLength: 6 }), fc.constantFrom(...ctx.files), fc.nat({ max: 9 })).map(([tokens, file, r]) => {
    const src = r < 8 ? `${ctx.origin}${file}` : r === 8 ? file.slice(1) : 'local:/a.png';
    const opts = tokens.map((t) => encodeURIComponent(t).replace(/%3A/gi, ':').replace(/%3D/gi, '=')).join(',');
    return opts === '' ? `/${src}` : `/${opts}/${src}`;
  });
}

/** `/proxy?url=…&…` with every parameter, duplicates and `enc` sometimes. */
export function previewproxyQuery(ctx: GrammarContext): fc.Arbitrary<string> {
  return fc.tuple(fc.array(ppPair(ctx), { maxLength: 7 }), fc.constantFrom(...ctx.files), fc.nat({ max: 19 })).map(([pairs, file, r]) => {
    const q = new URLSearchParams([['url', r < 18 ? `${ctx.origin}${file}` : 'AAAA'], ...pairs]);
    if (r === 19) q.append('enc', '');
    return `/proxy?${q.toString()}`;
  });
}

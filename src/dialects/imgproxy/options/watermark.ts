/**
 * The imgproxy watermark options: `watermark` places the mark (open-source imgproxy); imgproxy
 * Pro's `watermark_url`, `watermark_text`, `watermark_size`, `watermark_rotate` and
 * `watermark_shadow` shape it (https://docs.imgproxy.net/usage/processing#watermark).
 */
import { ProxyError } from '../../../errors.js';
import { WATERMARK_POSITIONS, type WatermarkText } from '../../../options.js';
import { colouredMarkup, MarkupError, parsePangoMarkup } from '../../../processing/pango-markup.js';
import { num } from '../arg-ranges.js';
import { arg, decodeBase64Url, ensureMaxArgs, invalidArg, parseEnum, utf8 } from '../args.js';
import { single, type OptionSpec } from './spec.js';

/** `watermark_url`: URL-safe base64 of an absolute URL. */
function parseWatermarkUrl(v: string): string {
  const bytes = decodeBase64Url(v);
  const url = bytes && utf8(bytes);
  if (url === undefined || !/^[a-z][a-z0-9+.-]*:\/\/./i.test(url)) throw invalidArg('watermark_url', 'URL-safe base64 of an absolute URL', v);
  return url;
}

/**
 * `watermark_text`: URL-safe base64 of Pango markup, black `sans 16` by default (imgproxy Pro
 * docs); only the subset pango-markup.ts lists is accepted.
 */
function parseWatermarkText(v: string): WatermarkText {
  const bytes = decodeBase64Url(v);
  const text = bytes && utf8(bytes);
  if (text === undefined) throw invalidArg('watermark_text', 'URL-safe base64 of UTF-8 text', v);
  try {
    return { kind: 'text', markup: colouredMarkup(parsePangoMarkup(text).markup, '000000'), font: 'sans', size: 16, sizing: 'em' };
  } catch (err) {
    if (err instanceof MarkupError) throw new ProxyError('INVALID_URL', `Invalid watermark_text: ${err.message}`);
    throw err;
  }
}

export const WATERMARK_OPTION: OptionSpec = {
  name: 'watermark', aliases: ['wm'],
  apply(o, args) {
    // imgproxy accepts up to 7 (Pro positions use more) and ignores what OSS does not read.
    ensureMaxArgs('watermark', args, 7);
    const opacity = num('watermark opacity', arg(args, 0));
    const prev = o.watermark ?? { opacity: 0, position: 'ce', x: 0, y: 0, scale: 0, layout: 'imgproxy' };
    const position = arg(args, 1) !== '' ? parseEnum('watermark position', arg(args, 1), WATERMARK_POSITIONS) : prev.position;
    const x = arg(args, 2) !== '' ? num('watermark offset', arg(args, 2), 'watermark x offset') : prev.x;
    const y = arg(args, 3) !== '' ? num('watermark offset', arg(args, 3), 'watermark y offset') : prev.y;
    const scale = arg(args, 4) !== '' ? num('watermark scale', arg(args, 4)) : prev.scale;
    o.watermark = opacity === 0 ? null : { opacity, position, x, y, scale, layout: 'imgproxy' };
  },
};

export const WATERMARK_MARK_OPTIONS: readonly OptionSpec[] = [
  // imgproxy Pro's watermark options (https://docs.imgproxy.net/usage/processing#watermark-url):
  // they shape the mark that `watermark` places; an empty argument restores the default.
  {
    name: 'watermark_url', aliases: ['wmu'],
    apply: single('watermark_url', (o, v) => {
      o.watermarkImage = v === '' ? null : { kind: 'url', url: parseWatermarkUrl(v) };
    }),
  },
  {
    name: 'watermark_text', aliases: ['wmt'],
    apply: single('watermark_text', (o, v) => {
      o.watermarkImage = v === '' ? null : parseWatermarkText(v);
    }),
  },
  {
    name: 'watermark_size', aliases: ['wms'],
    apply(o, args) {
      ensureMaxArgs('watermark_size', args, 2);
      const width = arg(args, 0) === '' ? (o.watermarkSize?.width ?? 0) : num('watermark size', arg(args, 0), 'watermark width');
      const height = arg(args, 1) === '' ? (o.watermarkSize?.height ?? 0) : num('watermark size', arg(args, 1), 'watermark height');
      o.watermarkSize = width === 0 && height === 0 ? null : { width, height };
    },
  },
  {
    name: 'watermark_rotate', aliases: ['wm_rot', 'wmr'],
    apply: single('watermark_rotate', (o, v) => {
      const n = num('watermark rotate', v);
      o.watermarkRotate = (((n % 360) + 360) % 360) + 0;
    }),
  },
  { name: 'watermark_shadow', aliases: ['wmsh'], apply: single('watermark_shadow', (o, v) => { o.watermarkShadow = num('watermark shadow', v); }) },
];

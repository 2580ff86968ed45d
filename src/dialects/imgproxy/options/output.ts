/**
 * The imgproxy options of the output: metadata and colour profile, DPI and HDR, quality (per
 * format, by size, autoquality), the format (or `best`) and the encoders' own options
 * (https://docs.imgproxy.net/usage/processing#strip-metadata and after).
 */
import { ML_REFUSED } from '../../../config/encoder-fields.js';
import type { Config } from '../../../config/index.js';
import { ProxyError } from '../../../errors.js';
import type { OutputFormat } from '../../../formats.js';
import { AUTOQUALITY_METHODS, AVIF_SUBSAMPLES, WEBP_COMPRESSIONS, WEBP_PRESETS, type ProcessingOptions } from '../../../options.js';
import { num } from '../arg-ranges.js';
import { arg, ensureMaxArgs, invalidArg, parseBool, parseEnum, parseFormat } from '../args.js';
import { boolOption, single, type OptionSpec } from './spec.js';

/** Built-in profiles of libvips (sharp `withIccProfile`); anything else is a file name. */
const BUILTIN_PROFILES = new Set(['srgb', 'p3', 'cmyk']);

/**
 * `color_profile`: a built-in name or a percent-encoded file name inside
 * IMGPROXY_COLOR_PROFILES_DIR. Only the name is checked here (no path may leave the
 * directory); the file is looked up when the image is processed.
 */
function parseColorProfile(v: string): string | null {
  if (v === '') return null;
  let name: string;
  try {
    name = decodeURIComponent(v);
  } catch {
    throw invalidArg('color profile', 'a profile name or a percent-encoded file name', v);
  }
  if (BUILTIN_PROFILES.has(name.toLowerCase())) return name.toLowerCase();
  if (/[/\\\0]/.test(name) || name === '.' || name === '..' || name.trim() === '') {
    throw invalidArg('color profile', 'srgb, p3, cmyk or a file name in IMGPROXY_COLOR_PROFILES_DIR', v);
  }
  return name;
}

/**
 * `format` and the URL extension: a format, or `best` (imgproxy Pro), whose candidates are
 * completed once every option is known (index.ts `completeBest`).
 */
export function setFormat(o: ProcessingOptions, name: string, value: string, config: Config): void {
  if (value.toLowerCase() === 'best') {
    const p = config.processing;
    o.format = null;
    o.bestFormat = { candidates: [], complexityThreshold: p.bestFormatComplexityThreshold, maxResolution: p.bestFormatMaxResolution, allowSkips: p.bestFormatAllowSkips };
    return;
  }
  o.format = parseFormat(name, value);
  o.bestFormat = null;
}

export const OUTPUT_OPTIONS: readonly OptionSpec[] = [
  boolOption('strip_metadata', ['sm'], 'stripMetadata'),
  boolOption('keep_copyright', ['kcr'], 'keepCopyright'),
  boolOption('strip_color_profile', ['scp'], 'stripColorProfile'),
  { name: 'dpi', aliases: [], apply: single('dpi', (o, v) => { o.dpi = num('dpi', v); }) },
  boolOption('preserve_hdr', ['ph'], 'preserveHdr'),
  { name: 'color_profile', aliases: ['cp', 'icc'], apply: single('color_profile', (o, v) => { o.colorProfile = parseColorProfile(v); }) },
  boolOption('enforce_thumbnail', ['eth'], 'enforceThumbnail'),
  // 0 restores the configured default (documented range 0–100).
  { name: 'quality', aliases: ['q'], apply: single('quality', (o, v) => { o.quality = num('quality', v); }) },
  {
    name: 'format_quality', aliases: ['fq'],
    apply(o, args) {
      if (args.length % 2 !== 0) throw new ProxyError('INVALID_URL', `Invalid format_quality arguments: missing quality for ${JSON.stringify(args[args.length - 1])}`);
      const fq: Partial<Record<OutputFormat, number>> = { ...o.formatQuality };
      for (let i = 0; i < args.length; i += 2) {
        const format = parseFormat('format_quality format', arg(args, i));
        const q = num('format quality', arg(args, i + 1), `format_quality ${format}`);
        // 0 = the configured default (imgproxy reads only a quality > 0): no entry, one cache key.
        if (q === 0) delete fq[format];
        else fq[format] = q;
      }
      o.formatQuality = fq;
    },
  },
  { name: 'max_bytes', aliases: ['mb'], apply: single('max_bytes', (o, v) => { o.maxBytes = num('max_bytes', v); }) },
  { name: 'format', aliases: ['f', 'ext'], apply: (o, args, ctx) => { ensureMaxArgs('format', args, 1); setFormat(o, 'format', arg(args, 0), ctx.config); } },
  {
    name: 'autoquality', aliases: ['aq'],
    apply(o, args) {
      ensureMaxArgs('autoquality', args, 5);
      const aq = { ...o.autoquality };
      const method = arg(args, 0);
      if (method === 'ml') throw new ProxyError('INVALID_URL', `Invalid autoquality method: ${ML_REFUSED}`);
      if (method !== '') aq.method = parseEnum('autoquality method', method, AUTOQUALITY_METHODS);
      if (arg(args, 1) !== '') aq.target = num('autoquality target', arg(args, 1));
      if (arg(args, 2) !== '') aq.min = num('autoquality quality', arg(args, 2), 'autoquality min quality');
      if (arg(args, 3) !== '') aq.max = num('autoquality quality', arg(args, 3), 'autoquality max quality');
      if (arg(args, 4) !== '') aq.allowedError = num('autoquality allowed error', arg(args, 4));
      o.autoquality = aq;
    },
  },
  {
    name: 'jpeg_options', aliases: ['jpgo'],
    apply(o, args) {
      ensureMaxArgs('jpeg_options', args, 6);
      const j = { ...o.jpegOptions };
      const flags = ['progressive', 'noSubsample', 'trellisQuant', 'overshootDeringing', 'optimizeScans'] as const;
      flags.forEach((key, i) => {
        if (arg(args, i) !== '') j[key] = parseBool(arg(args, i));
      });
      if (arg(args, 5) !== '') j.quantTable = num('jpeg quant table', arg(args, 5));
      o.jpegOptions = j;
    },
  },
  {
    name: 'png_options', aliases: ['pngo'],
    apply(o, args) {
      ensureMaxArgs('png_options', args, 3);
      const g = { ...o.pngOptions };
      if (arg(args, 0) !== '') g.interlaced = parseBool(arg(args, 0));
      if (arg(args, 1) !== '') g.quantize = parseBool(arg(args, 1));
      if (arg(args, 2) !== '') g.quantizationColors = num('png quantization colors', arg(args, 2));
      o.pngOptions = g;
    },
  },
  {
    name: 'webp_options', aliases: ['webpo'],
    apply(o, args) {
      ensureMaxArgs('webp_options', args, 3);
      const w = { ...o.webpOptions };
      if (arg(args, 0) !== '') w.compression = parseEnum('webp compression', arg(args, 0), WEBP_COMPRESSIONS);
      if (arg(args, 1) !== '') w.smartSubsample = parseBool(arg(args, 1));
      if (arg(args, 2) !== '') w.preset = parseEnum('webp preset', arg(args, 2), WEBP_PRESETS);
      o.webpOptions = w;
    },
  },
  { name: 'avif_options', aliases: ['avifo'], apply: single('avif_options', (o, v) => { if (v !== '') o.avifSubsample = parseEnum('avif subsample', v, AVIF_SUBSAMPLES); }) },
];

/**
 * The imgproxy options of the request around the image: serving it unprocessed, the cache
 * (cachebuster, tags, bypass), expiry, the download's name, the fallback image, presets,
 * and the security limits a URL may set with IMGPROXY_ALLOW_SECURITY_OPTIONS
 * (https://docs.imgproxy.net/usage/processing#skip-processing and after).
 */
import { ProxyError } from '../../../errors.js';
import { parseCacheTagArgs } from '../../../tags.js';
import { num } from '../arg-ranges.js';
import { arg, decodeBase64Url, ensureMaxArgs, invalidArg, isFormatName, parseBool, parseFormat, utf8 } from '../args.js';
import { boolOption, single, type OptionSpec } from './spec.js';

function applySecurityResolution(key: 'maxSrcResolution' | 'maxAnimationFrameResolution', name: 'max_src_resolution' | 'max_animation_frame_resolution'): OptionSpec['apply'] {
  // Megapixels, like the config variables the option overrides.
  return single(name, (o, v) => { o[key] = num(name, v); });
}

export const REQUEST_OPTIONS: readonly OptionSpec[] = [
  {
    // `sp` is what the official imgproxy-js-core builder emits for skip_processing.
    name: 'skip_processing', aliases: ['skp', 'sp'],
    apply(o, args) {
      const formats = new Set(o.skipProcessingFormats);
      for (const a of args) {
        // imgproxy's wording (options/parser/apply.go applySkipProcessingFormatsOption).
        if (!isFormatName(a)) throw new ProxyError('INVALID_URL', `Invalid image format in skip_processing: ${a}`);
        formats.add(parseFormat('skip_processing format', a));
      }
      // A set: sorted so that argument order does not change the options (or the cache key).
      o.skipProcessingFormats = [...formats].sort();
    },
  },
  boolOption('raw', [], 'raw'),
  { name: 'cachebuster', aliases: ['cb'], apply: single('cachebuster', (o, v) => { o.cachebuster = v; }) },
  { name: 'cache_tags', aliases: ['ct'], apply: (o, args) => { o.cacheTags = parseCacheTagArgs('cache_tags', args); } },
  {
    name: 'bypass_cache', aliases: ['bc'],
    apply(o, args, ctx) {
      ensureMaxArgs('bypass_cache', args, 1);
      const on = parseBool(arg(args, 0));
      // imgproxy Pro: "may be used for DoS attacks", so it is off unless the operator allows it.
      if (on && !ctx.config.cache.allowBypassCache) throw new ProxyError('SECURITY_OPTION_FORBIDDEN', 'bypass_cache needs IMGPROXY_ALLOW_BYPASS_CACHE=true');
      o.bypassCache = on;
    },
  },
  {
    name: 'expires', aliases: ['exp'],
    apply(o, args, ctx) {
      ensureMaxArgs('expires', args, 1);
      const ts = num('expires', arg(args, 0));
      if (ts > 0 && ts < ctx.now()) throw new ProxyError('INVALID_URL', 'Expired URL');
      o.expires = Math.max(ts, 0);
    },
  },
  {
    name: 'filename', aliases: ['fn'],
    apply(o, args) {
      ensureMaxArgs('filename', args, 2);
      const name = arg(args, 0);
      if (arg(args, 1) !== '' && parseBool(arg(args, 1))) {
        const bytes = decodeBase64Url(name);
        const text = bytes && utf8(bytes);
        if (text === undefined) throw invalidArg('filename', 'URL-safe base64 of a UTF-8 name', name);
        o.filename = text;
      } else {
        o.filename = name;
      }
    },
  },
  boolOption('return_attachment', ['att'], 'returnAttachment'),
  {
    // imgproxy Pro: https://docs.imgproxy.net/usage/processing#fallback-image-url
    name: 'fallback_image_url', aliases: ['fiu'],
    apply(o, args, ctx) {
      ensureMaxArgs('fallback_image_url', args, 1);
      const encoded = arg(args, 0);
      if (encoded === '') return;
      const bytes = decodeBase64Url(encoded);
      const url = bytes && utf8(bytes);
      if (url === undefined || url === '') throw invalidArg('fallback_image_url', 'URL-safe base64 of a URL', encoded);
      o.fallbackImageUrl = ctx.config.processing.fallbackImagePreprocessUrl ? ctx.preprocessUrl(url) : url;
    },
  },
  { name: 'preset', aliases: ['pr'], apply: (o, args, ctx) => ctx.expandPresets(o, args) },
  { name: 'max_src_resolution', aliases: ['msr'], security: true, apply: applySecurityResolution('maxSrcResolution', 'max_src_resolution') },
  { name: 'max_src_file_size', aliases: ['msfs'], security: true, apply: single('max_src_file_size', (o, v) => { o.maxSrcFileSize = Math.max(0, num('max_src_file_size', v)); }) },
  { name: 'max_animation_frames', aliases: ['maf'], security: true, apply: single('max_animation_frames', (o, v) => { o.maxAnimationFrames = num('max_animation_frames', v); }) },
  { name: 'max_animation_frame_resolution', aliases: ['mafr'], security: true, apply: applySecurityResolution('maxAnimationFrameResolution', 'max_animation_frame_resolution') },
  { name: 'max_result_dimension', aliases: ['mrd'], security: true, apply: single('max_result_dimension', (o, v) => { o.maxResultDimension = Math.max(0, num('max_result_dimension', v)); }) },
];

/**
 * pixproxy's processing as a library function, without a server, a cache or a URL (as ipx
 * offers `createIPX`): bytes and imgproxy processing options in, the encoded result out.
 *
 *   const processImage = createImageProcessor();
 *   const { data, format } = await processImage(jpegBytes, 'rs:fill:300:200/g:sm/f:webp');
 *
 * Options are imgproxy's (https://docs.imgproxy.net/usage/processing), parsed by the same
 * option table as URLs, presets included; limits and defaults come from the Config
 * (`loadConfig({})`: the built-in defaults, no environment). Errors are ProxyError: an unknown
 * option is INVALID_URL, a source that is no image INVALID_IMAGE, a source over the resolution
 * limit SOURCE_RESOLUTION_TOO_BIG.
 */
import { loadConfig, type Config } from './config/index.js';
import { createOptionApplier, splitOptions } from './dialects/imgproxy/apply-options.js';
import { loadPresets } from './dialects/imgproxy/presets.js';
import { ProxyError } from './errors.js';
import { defaultOptions } from './default-options.js';
import type { ProcessingOptions } from './options.js';
import { createProcessor } from './processing/pipeline.js';
import type { ProcessContext, ProcessResult } from './processing/types.js';
import { detectImageFormat } from './sources/detect.js';

export type { ProcessContext, ProcessResult } from './processing/types.js';

/**
 * `options`: imgproxy option segments (`rs:fit:300:200/q:80/f:webp`, or an array of segments),
 * applied after the `default` preset, as in a URL. Empty: the defaults (automatic format).
 * `ctx.watermark`: the image the `watermark` option draws (IMGPROXY_WATERMARK_* are not read
 * here); `ctx.marks`: the bytes of the `watermark_url` images, by URL; `ctx.signal` stops the work at the next pipeline stage.
 */
export type ImageProcessor = (input: Buffer, options?: string | readonly string[], ctx?: ProcessContext) => Promise<ProcessResult>;

export function createImageProcessor(config: Config = loadConfig({})): ImageProcessor {
  const presets = loadPresets(config);
  const applier = createOptionApplier(config, presets);
  const processor = createProcessor(config);
  const separator = config.urls.argumentsSeparator;

  function optionsOf(spec: string | readonly string[]): ProcessingOptions {
    const parts = (typeof spec === 'string' ? spec.split('/') : spec.flatMap((s) => s.split('/'))).filter((p) => p !== '');
    const { options: parsed, rest } = splitOptions(parts, separator);
    if (rest.length > 0) throw new ProxyError('INVALID_URL', `not a processing option: ${JSON.stringify(rest[0])}`);
    const o = defaultOptions(config);
    if (presets.has('default')) applier.applyPresets(o, ['default']);
    applier.applyOptions(o, parsed, { preset: false, chain: [] });
    return applier.finish(o);
  }

  return async (input, options = '', ctx = {}) => {
    const o = optionsOf(options);
    if (detectImageFormat(input) === null) throw new ProxyError('INVALID_IMAGE', 'source type could not be detected from its first bytes');
    return processor(input, o, ctx);
  };
}

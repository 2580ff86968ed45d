/**
 * The imgproxy URL dialect: `/%signature/%options/plain/%url@%ext`, base64 and encrypted
 * (`enc/`, imgproxy Pro) sources and `/info/…` paths in, ImageRequest out. Order of
 * application, as imgproxy's `defaultProcessingOptions` and `parsePathOptions` do it
 * (https://github.com/imgproxy/imgproxy/blob/master/options/parser/processing_options.go;
 * "The default preset … will be applied to every image", https://docs.imgproxy.net/usage/presets):
 * client features → `default` preset → URL options left to right with presets expanded in
 * place → URL extension. Presets and replacements are parsed once, at creation.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../../config/index.js';
import { ProxyError } from '../../errors.js';
import { applyClientFeatures, detectClientFeatures } from '../../negotiate.js';
import type { Logger } from '../../observability/logger.js';
import { RESIZING_TYPES, defaultOptions, settleWatermark, type OutputFormat, type ProcessingOptions } from '../../options.js';
import type { ImageRequest } from '../../request.js';
import { createOptionApplier, splitOptions } from './apply-options.js';
import { setFormat } from './option-table.js';
import { splitPath } from './path.js';
import { loadPresets } from './presets.js';
import { verifySignature } from './signature.js';
import { createSourceDecoder, createUrlPreprocessor } from './source-url.js';

export { sign, verifySignature } from './signature.js';
export { loadPresets } from './presets.js';
export { OPTION_TABLE, type OptionSpec } from './option-table.js';

export interface InfoRequest {
  readonly source: string;
  readonly signedPath: string;
  /** Raw `name:args` segments, unparsed: /info has its own options. */
  readonly segments: { name: string; args: string[] }[];
}

export interface ImgproxyDialect {
  /** `rawPath`: after the path prefix, percent-encoded, without the query string. */
  parseImage(rawPath: string, headers: IncomingHttpHeaders): ImageRequest;
  /** `rawPath`: without the `/info` prefix, which is not signed either. */
  parseInfo(rawPath: string, headers: IncomingHttpHeaders): InfoRequest;
}

export interface ImgproxyDialectDeps {
  logger?: Logger;
  /** Unix seconds, for `expires`. */
  now?: () => number;
  /** Reads IMGPROXY_PRESETS_PATH. */
  readFile?: (path: string) => string;
}

/**
 * `best`'s candidates (imgproxy Pro: "only the formats listed as preferred …, AVIF, WebP, or
 * JPEG XL if support detection is enabled"): the formats Accept negotiation allowed, in
 * imgproxy's order of preference, then IMGPROXY_PREFERRED_FORMATS. IMGPROXY_BEST_FORMAT_BY_DEFAULT
 * makes a URL without a format ask for `best`.
 */
function completeBest(o: ProcessingOptions, config: Config): void {
  if (o.bestFormat === null && o.format === null && config.processing.bestFormatByDefault) setFormat(o, 'format', 'best', config);
  if (o.bestFormat === null) return;
  const negotiated: OutputFormat[] = [];
  if (o.preferJxl) negotiated.push('jxl');
  if (o.preferAvif) negotiated.push('avif');
  if (o.preferWebp) negotiated.push('webp');
  const candidates = [...negotiated, ...(config.processing.preferredFormats as readonly OutputFormat[])];
  o.bestFormat = { ...o.bestFormat, candidates: candidates.filter((f, i) => candidates.indexOf(f) === i) };
}

/** Throws ConfigError when a preset or IMGPROXY_URL_REPLACEMENTS is invalid. */
export function createImgproxyDialect(config: Config, deps: ImgproxyDialectDeps = {}): ImgproxyDialect {
  const presets = loadPresets(config, deps.readFile);
  const applier = createOptionApplier(config, presets, { logger: deps.logger, now: deps.now, preprocessUrl: createUrlPreprocessor(config) });
  const decodeSource = createSourceDecoder(config);
  const separator = config.urls.argumentsSeparator;

  /** Defaults, the client's features (`negotiated`: they changed something), the `default` preset. */
  function initialOptions(headers: IncomingHttpHeaders): { options: ProcessingOptions; negotiated: boolean } {
    const o = defaultOptions(config);
    const negotiated = applyClientFeatures(o, detectClientFeatures(headers, config), config);
    if (presets.has('default')) applier.applyPresets(o, ['default']);
    return { options: o, negotiated };
  }

  /** The options of `parts` over the initial ones, and the source's parts of the path. */
  function urlOptions(parts: readonly string[], headers: IncomingHttpHeaders): { options: ProcessingOptions; negotiated: boolean; sourceParts: readonly string[] } {
    const { options, negotiated } = initialOptions(headers);
    if (config.urls.onlyPresets) {
      applier.applyPresets(options, (parts[0] ?? '').split(separator));
      return { options: applier.finish(options), negotiated, sourceParts: parts.slice(1) };
    }
    const split = splitOptions(parts, separator);
    applier.applyOptions(options, split.options, { preset: false, chain: [] });
    return { options: applier.finish(options), negotiated, sourceParts: split.rest };
  }

  function parseImage(rawPath: string, headers: IncomingHttpHeaders): ImageRequest {
    const { signature, signedPath, parts } = splitPath(rawPath);
    verifySignature(signature, signedPath, config.security);
    if (!config.urls.onlyPresets && (RESIZING_TYPES as readonly string[]).includes(parts[0] ?? '')) {
      throw new ProxyError('INVALID_URL', "It looks like you're using the deprecated basic URL format");
    }
    const { options, negotiated, sourceParts } = urlOptions(parts, headers);
    // Decoded (and an `enc/` source decrypted) only once the signature holds.
    const { url, extension, encrypted } = decodeSource(sourceParts);
    // raw streams the source untouched, so an extension cannot convert anything.
    const complete = (o: ProcessingOptions): ProcessingOptions => {
      if (!o.raw && extension !== '') setFormat(o, 'extension', extension, config);
      if (!o.raw) completeBest(o, config);
      settleWatermark(o);
      return o;
    };
    const request: ImageRequest = { kind: 'image', source: url, options: complete(options), signedPath, ...(encrypted ? { sourceHidden: true } : {}) };
    // The URL's own options, which the cache groups this URL's negotiated variants by.
    if (negotiated) request.urlOptions = complete(urlOptions(parts, {}).options);
    return request;
  }

  function parseInfo(rawPath: string, _headers: IncomingHttpHeaders): InfoRequest {
    const { signature, signedPath, parts } = splitPath(rawPath);
    verifySignature(signature, signedPath, config.security);
    const split = splitOptions(parts, separator);
    const { url } = decodeSource(split.rest);
    return { source: url, signedPath, segments: split.options.map((s) => ({ name: s.name, args: [...s.args] })) };
  }

  return { parseImage, parseInfo };
}

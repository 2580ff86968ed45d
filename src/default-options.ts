/**
 * The processing options of a request that asks for nothing: every field at its neutral
 * value, the configured defaults (IMGPROXY_AUTO_ROTATE, IMGPROXY_STRIP_METADATA, the
 * encoders' IMGPROXY_* settings, the security limits, …) filled in from `Config`, so that the
 * cache key reflects the effective values. Also `asIs`, the same options serving the source
 * bytes unchanged.
 */
import type { Config } from './config/index.js';
import { OUTPUT_FORMATS, type OutputFormat } from './formats.js';
import type { Gravity, ProcessingOptions } from './options.js';

const CENTER: Gravity = { type: 'ce', x: 0, y: 0 };

/** No format preference from Accept or IMGPROXY_ENFORCE_*. */
const NOT_NEGOTIATED = {
  preferWebp: false,
  preferAvif: false,
  preferJxl: false,
  enforceWebp: false,
  enforceAvif: false,
  enforceJxl: false,
} as const satisfies Partial<ProcessingOptions>;

export function defaultOptions(config: Config): ProcessingOptions {
  const p = config.processing;
  const s = config.security;
  const v = config.previews;
  return {
    resizingType: 'fit',
    resizingAlgorithm: 'lanczos3',
    width: 0,
    height: 0,
    minWidth: 0,
    minHeight: 0,
    zoomX: 1,
    zoomY: 1,
    dpr: 1,
    enlarge: false,
    extend: { enabled: false, gravity: { ...CENTER } },
    extendAspectRatio: { enabled: false, gravity: { ...CENTER } },
    gravity: { ...CENTER },
    crop: null,
    trim: null,
    padding: null,
    autoRotate: p.autoRotate,
    rotate: 0,
    flipHorizontal: false,
    flipVertical: false,
    background: null,
    blur: 0,
    sharpen: 0,
    pixelate: 0,
    brightness: 0,
    contrast: 1,
    saturation: 1,
    monochrome: null,
    duotone: null,
    unsharpMasking: { mode: p.unsharpMaskingMode, weight: p.unsharpMaskingWeight, divider: p.unsharpMaskingDivider },
    blurAreas: null,
    progressiveBlur: null,
    colorize: null,
    gradient: null,
    cropAspectRatio: null,
    backgroundAlpha: 1,
    objectsPosition: { type: 'ce', x: 0, y: 0 },
    style: '',
    dpi: 0,
    colorProfile: null,
    stripMetadata: p.stripMetadata,
    keepCopyright: p.keepCopyright,
    stripColorProfile: p.stripColorProfile,
    preserveHdr: p.preserveHdr,
    // IMGPROXY_ENFORCE_THUMBNAIL is refused unless false (src/config/unsupported.ts).
    enforceThumbnail: false,
    quality: 0,
    formatQuality: {},
    maxBytes: 0,
    format: null,
    bestFormat: null,
    smallAvif: 'substitute',
    sourceIfSameFormat: false,
    autoquality: { method: p.autoqualityMethod, target: p.autoqualityTarget, min: null, max: null, allowedError: p.autoqualityAllowedError },
    jpegOptions: {
      progressive: p.jpegProgressive,
      noSubsample: p.jpegNoSubsample,
      trellisQuant: p.jpegTrellisQuant,
      overshootDeringing: p.jpegOvershootDeringing,
      optimizeScans: p.jpegOptimizeScans,
      quantTable: p.jpegQuantTable,
    },
    pngOptions: { interlaced: p.pngInterlaced, quantize: p.pngQuantize, quantizationColors: p.pngQuantizationColors },
    webpOptions: { compression: p.webpCompression, smartSubsample: p.webpSmartSubsample, preset: p.webpPreset },
    avifSubsample: p.avifSubsample,
    ...NOT_NEGOTIATED,
    skipProcessingFormats: [...(p.skipProcessingFormats as OutputFormat[])],
    raw: false,
    cachebuster: '',
    cacheTags: [],
    bypassCache: false,
    expires: 0,
    filename: '',
    returnAttachment: false,
    fallbackImageUrl: '',
    watermark: null,
    watermarkImage: null,
    watermarkSize: null,
    watermarkRotate: 0,
    watermarkShadow: 0,
    frames: null,
    page: 0,
    pages: 1,
    disableAnimation: false,
    video: { enabled: v.enableVideoThumbnails, seek: { seconds: v.videoThumbnailSecond }, keyframes: v.videoThumbnailKeyframes },
    maxSrcResolution: s.maxSrcResolution,
    maxSrcFileSize: s.maxSrcFileSize,
    maxAnimationFrames: s.maxAnimationFrames,
    maxAnimationFrameResolution: s.maxAnimationFrameResolution,
    maxResultDimension: s.maxResultDimension,
    usedPresets: [],
    chain: [],
  };
}

/**
 * The same options serving the source bytes unchanged: every format takes the processor's
 * skip path (probed and checked, never re-encoded), nothing is negotiated.
 */
export function asIs(o: ProcessingOptions): ProcessingOptions {
  return { ...o, skipProcessingFormats: [...OUTPUT_FORMATS], format: null, bestFormat: null, ...NOT_NEGOTIATED };
}

/** Whether these are `asIs` options: every format skipped, nothing asked for. */
export function isAsIs(o: ProcessingOptions): boolean {
  return o.format === null && OUTPUT_FORMATS.every((f) => o.skipProcessingFormats.includes(f));
}

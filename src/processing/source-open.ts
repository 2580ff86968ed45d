/**
 * Opening the source of a request: the header probed and checked against the resolution limits
 * before anything is decoded, then a codec's format (BMP, ICO, JPEG XL, HEIC, PDF, PSD, video…)
 * decoded off the main thread at the size the request needs; libvips' formats are decoded
 * lazily by the stages.
 */
import type { Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import { isVideoFormat } from '../formats.js';
import type { ProcessingOptions } from '../options.js';
import { readSource, type SourceInfo } from './codecs/source.js';
import type { DecodeRequest, PreviewSettings } from './codecs/types.js';
import { checkSource, type PixelLimits } from './limits.js';
import { loadSize, pdfScale } from './load-plan.js';
import type { Run } from './run.js';
import { orientationSwaps } from './turns.js';

export function openSource(source: Buffer, o: ProcessingOptions, config: Config, previews: PreviewSettings, limits: PixelLimits, run: Run): Promise<SourceInfo> {
  return readSource(source, {
    limits: { maxPixels: o.maxSrcResolution * 1e6, maxFrames: Math.max(1, o.maxAnimationFrames, o.pages), deadline: run.deadline, signal: run.signal, previews },
    accept: (format) => {
      if (isVideoFormat(format) && !o.video.enabled) throw new ProxyError('UNSUPPORTED_IMAGE', `source: ${format} video, and video thumbnails are off (IMGPROXY_ENABLE_VIDEO_THUMBNAILS)`);
    },
    select: { page: o.page, pages: o.pages },
    check: (width, height, _pages, format) => {
      // A PDF is vector: like SVG it is drawn smaller, not refused (request below). ffprobe may
      // not have measured a video (0×0): ffmpeg's -max_pixels and the frame's check stand.
      if (format === 'pdf' || width === 0) return;
      checkSource(width, height, 1, o, limits, format === 'psd' && o.preserveHdr ? 'ushort' : 'uchar');
    },
    request: (width, height, format, probe) => {
      const request: DecodeRequest = {
        page: o.page,
        pages: o.pages,
        size: loadSize(width, height, o, config),
        seek: o.video.seek,
        keyframes: o.video.keyframes,
        highDepth: o.preserveHdr && probe.highDepth === true,
      };
      return format === 'pdf' ? { ...request, scale: pdfScale(width, height, probe, o, limits) } : request;
    },
  });
}

/** The source's size as shown: EXIF orientation applied when auto_rotate is on. */
export function orientedSize(info: SourceInfo, autoRotate: boolean): { width: number; height: number } {
  const swap = autoRotate && orientationSwaps(info.orientation);
  return swap ? { width: info.height, height: info.width } : { width: info.width, height: info.height };
}

/**
 * The formats pixproxy knows by name: those it writes, the video containers it takes a frame
 * from, everything it detects in a source, and each one's media type. Plain data that the
 * options model, the sniffer, the codecs and the HTTP layer share.
 */

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'svg', 'jxl', 'bmp', 'ico', 'heic'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Video containers a frame is taken from (ffmpeg). */
export const VIDEO_FORMATS = ['mp4', 'mov', 'webm', 'mkv', 'avi'] as const;
export type VideoFormat = (typeof VIDEO_FORMATS)[number];

/** Formats we can detect in a source. */
export type ImageFormat = OutputFormat | 'pdf' | 'psd' | VideoFormat;

export function isVideoFormat(f: ImageFormat): f is VideoFormat {
  return (VIDEO_FORMATS as readonly string[]).includes(f);
}

/** `Content-Type` of each format (IANA media types; `image/x-icon` and `image/heif` as browsers know them). */
export const MIME_TYPES: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  gif: 'image/gif',
  tiff: 'image/tiff',
  svg: 'image/svg+xml',
  jxl: 'image/jxl',
  bmp: 'image/bmp',
  ico: 'image/x-icon',
  heic: 'image/heif',
  pdf: 'application/pdf',
  psd: 'image/vnd.adobe.photoshop',
  mp4: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  avi: 'video/x-msvideo',
};

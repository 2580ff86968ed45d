/**
 * The format registry: one row per format and direction, saying what reads (decoder) or
 * writes (encoder) it and with what (`by`: libvips, an npm package, or a Debian tool). Formats
 * are detected by their magic bytes in `sources/detect.ts` (the only sniffer), then looked up
 * here; a format without a reading row is refused as unsupported. docs/formats.md is the table
 * in prose, with the alternatives each choice was weighed against.
 *
 * A plain table on purpose: a new format or a new direction is one more row (append yours in
 * its section). A row whose tool is missing stays in the table with `available: false` and
 * its reason; the app names it once at startup (`unavailableCodecs`), and its decoder refuses
 * what needs the tool with that reason (HEIC: only HEVC images need heif-convert). The video
 * rows' ffmpeg is the app's own (PP_FFMPEG_PATH, preview-settings.ts), named at its startup.
 */
import type { ImageFormat, OutputFormat } from '../../formats.js';
import { bmpReader } from './bmp-read.js';
import { heicReader } from './heic-read.js';
import { icoReader } from './ico-read.js';
import { jxlReader } from './jxl-read.js';
import { libvipsReader } from './libvips-read.js';
import { pdfReader } from './pdf.js';
import { psdReader } from './psd.js';
import type { Codec } from './types.js';
import { videoReaders } from './video.js';

export const CODECS: readonly Codec[] = [
  // Read by libvips, as shipped with sharp.
  libvipsReader('jpeg'),
  libvipsReader('png'),
  libvipsReader('webp'),
  libvipsReader('gif'),
  // libtiff reports damage that libvips reads around (a short last strip) as an error: libvips
  // itself and imgproxy read TIFF with fail_on=none, so do we.
  libvipsReader('tiff', 'none'),
  libvipsReader('svg'),
  libvipsReader('avif'),
  // Read by a codec.
  heicReader,
  jxlReader,
  bmpReader,
  icoReader,
  // Previews: a PDF's pages, a PSD's composite, a video's frame.
  pdfReader,
  psdReader,
  ...videoReaders,
];

/** The row that reads `format`, if any. */
export function readerOf(format: ImageFormat): Codec | undefined {
  return CODECS.find((c) => c.format === format && c.decoder !== undefined);
}

/** The row that writes `format` with a codec, if any (libvips' own encoders need none). */
export function writerOf(format: OutputFormat): Codec | undefined {
  return CODECS.find((c) => c.format === format && c.encoder !== undefined);
}

/** Rows whose tool or package is missing, with why: the app logs each once at startup. */
export function unavailableCodecs(): { format: ImageFormat | OutputFormat; by: string; reason: string }[] {
  return CODECS.filter((c) => !c.available).map((c) => ({ format: c.format, by: c.by, reason: c.unavailableReason ?? `${c.by} is not available` }));
}

export type { Codec, Decoded, DecodeLimits, DecodeRequest, Decoder, Encoder, PreviewSettings, Probe } from './types.js';

/**
 * A source image read through the registry: its format from the magic bytes, its header
 * facts, and what sharp is given to decode it (the source itself for libvips' formats, a
 * codec's output otherwise). The pipeline, /info and the watermark all read images here.
 *
 * Nothing decodes pixels before the caller's size check has seen the header's size: libvips
 * decodes its formats lazily, later, under the pipeline's own checks; a codec's decoder runs
 * only once `check` accepted its probe.
 */
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import { ProxyError } from '../../errors.js';
import type { ImageFormat } from '../../formats.js';
import { detectImageFormat } from '../../sources/detect.js';
import type { Depth } from '../frame.js';
import { readerOf } from './index.js';
import { formatOf, headerOf, readByLibvips } from './libvips-read.js';
import type { Codec, Decoded, DecodeLimits, DecodeRequest, FailOn, Probe } from './types.js';

/** What sharp loads for a source, and how. */
export interface SharpInput {
  readonly data: Buffer;
  /** Raw pixels: their layout. */
  readonly raw?: { readonly width: number; readonly height: number; readonly channels: 1 | 2 | 3 | 4 } | undefined;
  readonly depth?: Depth | undefined;
  readonly failOn: FailOn;
  /** The source bytes themselves: page, pages and density apply to them. */
  readonly isSource: boolean;
}

export interface SourceInfo {
  format: ImageFormat;
  /** Size of one frame as stored (EXIF orientation not applied). */
  width: number;
  height: number;
  /** EXIF orientation 1–8 (1 when absent, and for codecs, which apply it). */
  orientation: number;
  pages: number;
  delay: number[] | undefined;
  loop: number;
  hasAlpha: boolean;
  /** 'ushort' for any source of more than 8 bits a sample (16-bit, 32-bit float…). */
  depth: Depth;
  /** Pixels per inch the source records, if any. */
  density?: number | undefined;
  /** Single-channel (plus alpha) greyscale source: b-w or grey16 interpretation. */
  grey: boolean;
  exif: Buffer | undefined;
  xmp: string | undefined;
  /** The header's size when the decoder drew the source at another (a PDF rendered at a scale). */
  stored?: { readonly width: number; readonly height: number } | undefined;
  /** Samples of more than 8 bits in the source, whatever was decoded (PSD). */
  highDepth?: boolean | undefined;
  /** Video only: ffprobe's facts (/info's `video_meta`). */
  video?: Probe['video'];
  duration?: number | undefined;
  input: SharpInput;
}

/** The format of `source` and the registry row that reads it; refuses what nothing reads. */
export function identify(source: Buffer): { format: ImageFormat; codec: Codec & { decoder: NonNullable<Codec['decoder']> } } {
  const format = detectImageFormat(source);
  if (format === null) throw new ProxyError('INVALID_IMAGE', 'source type could not be detected from its first bytes');
  const codec = readerOf(format);
  if (!codec?.decoder) throw new ProxyError('UNSUPPORTED_IMAGE', `source: format ${format} is not supported`);
  return { format, codec: codec as Codec & { decoder: NonNullable<Codec['decoder']> } };
}

/** The header facts of `source` without decoding it (for /info, and for the limits). */
export async function probeSource(source: Buffer, limits: DecodeLimits, o: Pick<ReadOptions, 'accept' | 'select'> = {}): Promise<{ format: ImageFormat; probe: Probe; meta: Metadata | undefined }> {
  const { format, codec } = identify(source);
  o.accept?.(format);
  if (readByLibvips(codec)) {
    const meta = await headerOf(source);
    const probe: Probe = { width: meta.width, height: meta.pageHeight ?? meta.height, pages: Math.max(1, meta.pages ?? 1), hasAlpha: meta.hasAlpha };
    return { format: libvipsFormat(format, meta), probe, meta };
  }
  const probe = await codec.decoder.probe(source, limits, o.select);
  if (probe.format !== undefined && probe.format !== format) {
    const other = readerOf(probe.format);
    if (other && readByLibvips(other)) {
      const meta = await headerOf(source);
      return { format: probe.format, probe, meta };
    }
  }
  return { format, probe, meta: undefined };
}

function libvipsFormat(sniffed: ImageFormat, meta: Metadata): ImageFormat {
  const read = formatOf(meta);
  if (read === undefined) throw new ProxyError('UNSUPPORTED_IMAGE', `source: format ${String(meta.format)} is not supported`);
  // The sniffer's answer stands, but for HEIF, whose codec only the header tells.
  return sniffed === 'heic' || sniffed === 'avif' ? read : sniffed;
}

function fromMeta(format: ImageFormat, meta: Metadata, input: SharpInput): SourceInfo {
  return {
    format,
    width: meta.width,
    height: meta.pageHeight ?? meta.height,
    orientation: meta.orientation ?? 1,
    pages: Math.max(1, meta.pages ?? 1),
    delay: meta.delay,
    loop: meta.loop ?? 0,
    hasAlpha: meta.hasAlpha,
    // preserve_hdr keeps float and 32-bit sources at 16 bits, as imgproxy does
    // (processing/colorspace_test.go 32-bpp-linear-tiff-rgb16).
    depth: meta.depth === 'uchar' || meta.depth === 'char' ? 'uchar' : 'ushort',
    density: meta.density,
    grey: meta.space === 'b-w' || meta.space === 'grey16',
    exif: meta.exif,
    xmp: meta.xmpAsString,
    input,
  };
}

export interface ReadOptions {
  readonly limits: DecodeLimits;
  /** Sees the sniffed format before anything reads it; throws to refuse (videos switched off). */
  readonly accept?: ((format: ImageFormat) => void) | undefined;
  /** The pages a paged vector source (PDF) is measured on: its header's size is theirs, stacked. */
  readonly select?: DecodeRequest | undefined;
  /** Sees a codec format's size and page count from its header before it is decoded; throws to refuse. */
  readonly check?: ((width: number, height: number, pages: number, format: ImageFormat) => void) | undefined;
  /** What to decode, given the header's size (the result size lets ICO pick its entry, a scale draws a PDF). */
  readonly request?: ((width: number, height: number, format: ImageFormat, probe: Probe) => DecodeRequest) | undefined;
}

/** Header facts and sharp's input for `source`, decoded by its codec where libvips cannot. */
export async function readSource(source: Buffer, o: ReadOptions): Promise<SourceInfo> {
  const { format: sniffed, codec } = identify(source);
  o.accept?.(sniffed);
  if (readByLibvips(codec)) {
    const meta = await headerOf(source);
    const format = libvipsFormat(sniffed, meta);
    const decoded = await codec.decoder.decode(source, {}, o.limits);
    return fromMeta(format, meta, inputOf(decoded, source));
  }
  const probe = await codec.decoder.probe(source, o.limits, o.select);
  const format = probe.format ?? sniffed;
  const other = format !== sniffed ? readerOf(format) : undefined;
  if (other && readByLibvips(other)) {
    // The header said libvips reads this one itself (AV1 in a generic HEIF container).
    const meta = await headerOf(source);
    return fromMeta(format, meta, { data: source, failOn: 'error', isSource: true });
  }
  o.check?.(probe.width, probe.height, probe.pages, format);
  const request = o.request?.(probe.width, probe.height, format, probe) ?? {};
  const decoded = await codec.decoder.decode(source, request, o.limits);
  const input = inputOf(decoded, source);
  let info: SourceInfo;
  if (decoded.kind === 'raw') {
    const grey = decoded.channels <= 2;
    info = {
      format,
      width: decoded.width,
      height: decoded.height,
      orientation: 1,
      pages: 1,
      delay: undefined,
      loop: 0,
      hasAlpha: decoded.channels === 2 || decoded.channels === 4,
      depth: decoded.depth ?? 'uchar',
      grey,
      exif: undefined,
      xmp: undefined,
      input,
    };
  } else {
    const meta = await headerOf(decoded.data);
    // A decoder applies the orientation it finds (libheif, libjxl); the output has none left,
    // and is the one image decoded (HEIC's primary), whatever the file holds besides.
    info = { ...fromMeta(format, meta, input), orientation: 1 };
  }
  // Asked for a result size, a decoder may hand a smaller rendition of the same picture (an
  // ICO's smaller entry): the caller plans from the header's size and resizes explicitly.
  if (request.size && (info.width !== probe.width || info.height !== probe.height)) info = { ...info, width: probe.width, height: probe.height };
  // Drawn at a scale (a PDF), the pixels are the size the pipeline works on; the header's is the source's.
  if (request.scale !== undefined) info = { ...info, stored: { width: probe.width, height: probe.height } };
  // The pages the source has, not the one image decoded from them.
  return { ...info, pages: probe.pages, highDepth: probe.highDepth, video: probe.video, duration: probe.duration };
}

function inputOf(decoded: Decoded, source: Buffer): SharpInput {
  if (decoded.kind === 'raw') return { data: decoded.data, raw: { width: decoded.width, height: decoded.height, channels: decoded.channels }, depth: decoded.depth, failOn: 'error', isSource: false };
  return { data: decoded.data, failOn: decoded.failOn ?? 'error', isSource: decoded.data === source };
}

/**
 * A sharp pipeline reading `input`: the caller's options (limits, page, density) for the source
 * itself; for a codec's output, its raw layout or its strictness only.
 */
export function sharpOf(input: SharpInput, opts: SharpOptions = {}): Sharp {
  if (input.raw) {
    const { data, raw } = input;
    // sharp takes 16-bit samples from a Uint16Array.
    const pixels = input.depth === 'ushort' ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : data;
    return sharp(pixels, { raw, limitInputPixels: opts.limitInputPixels ?? false });
  }
  const options: SharpOptions = { ...opts, failOn: input.failOn };
  if (input.isSource) return sharp(input.data, options);
  // A codec's output is one still image: the source's page and density mean nothing to it.
  const { page: _page, pages: _pages, density: _density, ...rest } = options;
  return sharp(input.data, rest);
}

/** A sharp pipeline of any readable image (watermarks, tests): decoded by its codec where needed. */
export async function openImage(source: Buffer, limits: DecodeLimits): Promise<Sharp> {
  const info = await readSource(source, { limits });
  return sharpOf(info.input, { limitInputPixels: Math.ceil(limits.maxPixels) });
}

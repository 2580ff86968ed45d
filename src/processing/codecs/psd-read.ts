/**
 * A reader of the composite ("merged") image of Photoshop files, PSD and PSB (the large
 * document format), after Adobe's Photoshop File Formats Specification
 * (https://www.adobe.com/devnet-apps/photoshop/fileformatashtml/): the file header, the
 * colour mode data (an indexed image's palette), the image resources and the layer and mask
 * section (skipped, but for the sign of its layer count, which says whether the composite's
 * first extra channel is its transparency), then the image data section: every channel of
 * the composite, planar, raw, PackBits or ZIP.
 *
 * 1, 8, 16 and 32 bits per sample; bitmap, greyscale, duotone (its grey channel, as the
 * specification tells readers to), indexed, RGB, CMYK, Lab and multichannel. Out: RGB(A) or
 * grey(+alpha) at 8 bits, or 16 when asked and the file has more than 8. Pure and
 * synchronous: the codec runs it in a worker thread (psd.ts).
 *
 * Every length read from the file is checked before it is used and the output is bounded
 * before it is allocated: a header that lies ends in a 422, never in a RangeError or a
 * gigabyte allocation.
 */
import { inflateSync } from 'node:zlib';
import { ProxyError } from '../../errors.js';
import { bad as refuse } from './refuse.js';

export const PSD_MODES = { bitmap: 0, grey: 1, indexed: 2, rgb: 3, cmyk: 4, multichannel: 7, duotone: 8, lab: 9 } as const;

export interface PsdHeader {
  /** 1 = PSD, 2 = PSB. */
  readonly version: 1 | 2;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly depth: 1 | 8 | 16 | 32;
  readonly mode: number;
  /** The composite has a transparency channel. */
  readonly hasAlpha: boolean;
}

export interface PsdPixels {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly depth: 'uchar' | 'ushort';
}

export interface PsdLimits {
  /** Largest width × height decoded (IMGPROXY_MAX_SRC_RESOLUTION). */
  readonly maxPixels: number;
  /** 16-bit output for a 16- or 32-bit file (preserve_hdr). */
  readonly highDepth?: boolean;
}

function bad(detail: string): ProxyError {
  return refuse(`PSD: ${detail}`);
}

interface Layout extends PsdHeader {
  /** The 768-byte palette of an indexed image. */
  readonly palette: Buffer | null;
  /** Where the image data section starts (its compression field). */
  readonly imageData: number;
}

/** Reads a section length of 4 bytes, or 8 in a PSB's layer section, and skips the section. */
function skipSection(buf: Buffer, at: number, wide: boolean, what: string): { start: number; end: number } {
  const size = wide ? 8 : 4;
  if (at + size > buf.length) throw bad(`truncated before the ${what} section`);
  const len = wide ? Number(buf.readBigUInt64BE(at)) : buf.readUInt32BE(at);
  const start = at + size;
  if (!Number.isSafeInteger(len) || start + len > buf.length) throw bad(`the ${what} section runs past the end of the file`);
  return { start, end: start + len };
}

function layout(buf: Buffer): Layout {
  if (buf.length < 26 || buf.toString('latin1', 0, 4) !== '8BPS') throw bad('not a Photoshop file');
  const version = buf.readUInt16BE(4);
  if (version !== 1 && version !== 2) throw bad(`unknown version ${version}`);
  const channels = buf.readUInt16BE(12);
  const height = buf.readUInt32BE(14);
  const width = buf.readUInt32BE(18);
  const depth = buf.readUInt16BE(22);
  const mode = buf.readUInt16BE(24);
  // The specification's bounds: 30,000 px a side for PSD, 300,000 for PSB; 1 to 56 channels.
  const side = version === 1 ? 30_000 : 300_000;
  if (width < 1 || height < 1 || width > side || height > side) throw bad(`unsupported dimensions ${width}x${height}`);
  if (channels < 1 || channels > 56) throw bad(`unsupported channel count ${channels}`);
  if (depth !== 1 && depth !== 8 && depth !== 16 && depth !== 32) throw bad(`unsupported depth ${depth}`);
  if (!(Object.values(PSD_MODES) as number[]).includes(mode)) throw bad(`unsupported colour mode ${mode}`);
  if (mode === PSD_MODES.bitmap && depth !== 1) throw bad('a bitmap image must be 1-bit');
  if (depth === 1 && mode !== PSD_MODES.bitmap) throw bad('a 1-bit image must be in bitmap mode');

  const colourData = skipSection(buf, 26, false, 'colour mode data');
  const palette = mode === PSD_MODES.indexed ? buf.subarray(colourData.start, colourData.end) : null;
  if (palette && palette.length < 768) throw bad('an indexed image without its 768-byte palette');
  const resources = skipSection(buf, colourData.end, false, 'image resources');
  const layers = skipSection(buf, resources.end, version === 2, 'layer and mask information');
  // A negative layer count: "the first alpha channel contains the transparency data for the
  // merged result" (the specification's Layer info).
  let alphaFirst = false;
  const lenSize = version === 2 ? 8 : 4;
  if (layers.end - layers.start >= lenSize + 2) {
    const infoLen = version === 2 ? Number(buf.readBigUInt64BE(layers.start)) : buf.readUInt32BE(layers.start);
    if (infoLen >= 2) alphaFirst = buf.readInt16BE(layers.start + lenSize) < 0;
  }
  const colours = colourChannels(mode);
  if (channels < colours) throw bad(`colour mode ${mode} needs ${colours} channels, the file has ${channels}`);
  // Other extra channels are saved selections or spot colours, not part of the picture.
  const hasAlpha = channels > colours && alphaFirst && mode !== PSD_MODES.bitmap && mode !== PSD_MODES.indexed;
  return { version, width, height, channels, depth, mode, hasAlpha, palette, imageData: layers.end };
}

function colourChannels(mode: number): number {
  switch (mode) {
    case PSD_MODES.rgb:
    case PSD_MODES.lab:
      return 3;
    case PSD_MODES.cmyk:
      return 4;
    default:
      return 1;
  }
}

/** Size, depth, mode and transparency from the header and sections, no pixel read. */
export function readPsdHeader(buf: Buffer): PsdHeader {
  const { version, width, height, channels, depth, mode, hasAlpha } = layout(buf);
  return { version, width, height, channels, depth, mode, hasAlpha };
}

/** Bytes of one row of one channel. */
function rowBytes(width: number, depth: number): number {
  return Math.ceil((width * depth) / 8);
}

/** PackBits (Apple TN1023): a header byte n, then n+1 literal bytes, or one byte repeated 1−n times. */
function unpackBits(src: Buffer, from: number, to: number, out: Uint8Array, at: number, size: number): void {
  let i = from;
  let o = at;
  const end = at + size;
  while (o < end && i < to) {
    const n = (src[i++] ?? 0) << 24 >> 24;
    if (n >= 0) {
      const count = Math.min(n + 1, end - o, to - i);
      out.set(src.subarray(i, i + count), o);
      i += n + 1;
      o += count;
    } else if (n !== -128) {
      const count = Math.min(1 - n, end - o);
      out.fill(src[i++] ?? 0, o, o + count);
      o += count;
    }
  }
  // A short row reads as zeros (the output is zero-filled): damaged, not dangerous.
}

/** Every channel's bytes, planar (channel after channel, row after row), uncompressed. */
function planes(buf: Buffer, l: Layout, count: number): Uint8Array {
  const at = l.imageData;
  if (at + 2 > buf.length) throw bad('no image data section');
  const compression = buf.readUInt16BE(at);
  const row = rowBytes(l.width, l.depth);
  const plane = row * l.height;
  const total = plane * l.channels;
  const body = at + 2;
  switch (compression) {
    case 0: {
      if (body + plane * count > buf.length) throw bad('truncated image data');
      return buf.subarray(body, body + plane * count);
    }
    case 1: {
      const countSize = l.version === 2 ? 4 : 2;
      const rows = l.height * l.channels;
      if (body + rows * countSize > buf.length) throw bad('truncated row byte counts');
      const out = new Uint8Array(plane * count);
      let data = body + rows * countSize;
      for (let r = 0; r < rows; r++) {
        const len = countSize === 4 ? buf.readUInt32BE(body + r * 4) : buf.readUInt16BE(body + r * 2);
        if (data + len > buf.length) throw bad('truncated PackBits data');
        if (r < l.height * count) unpackBits(buf, data, data + len, out, r * row, row);
        data += len;
      }
      return out;
    }
    case 2:
    case 3: {
      let raw: Buffer;
      try {
        raw = inflateSync(buf.subarray(body), { maxOutputLength: total });
      } catch (err) {
        throw new ProxyError('UNSUPPORTED_IMAGE', `PSD: ZIP image data: ${(err as Error).message}`, { cause: err });
      }
      if (raw.length < plane * count) throw bad('truncated ZIP image data');
      if (compression === 3) unpredict(raw, l, count);
      return raw;
    }
    default:
      throw bad(`unknown compression ${compression}`);
  }
}

/** ZIP with prediction: each row holds differences from the sample to its left. */
function unpredict(raw: Buffer, l: Layout, count: number): void {
  if (l.depth === 32) throw bad('32-bit ZIP with prediction is not supported');
  const row = rowBytes(l.width, l.depth);
  for (let r = 0; r < l.height * count; r++) {
    const at = r * row;
    if (l.depth === 16) {
      for (let x = 1; x < l.width; x++) raw.writeUInt16BE((raw.readUInt16BE(at + x * 2) + raw.readUInt16BE(at + (x - 1) * 2)) & 0xffff, at + x * 2);
    } else {
      for (let x = 1; x < row; x++) raw[at + x] = ((raw[at + x] ?? 0) + (raw[at + x - 1] ?? 0)) & 0xff;
    }
  }
}

/** A sample of a channel as 0–1. */
type Sampler = (channel: number, pixel: number) => number;

function sampler(data: Uint8Array, l: Layout): Sampler {
  const plane = rowBytes(l.width, l.depth) * l.height;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (l.depth) {
    case 1: {
      const row = rowBytes(l.width, 1);
      return (c, p) => {
        const y = Math.floor(p / l.width);
        const x = p - y * l.width;
        // Bitmap mode: a set bit is black.
        return ((data[c * plane + y * row + (x >> 3)] ?? 0) >> (7 - (x & 7))) & 1 ? 0 : 1;
      };
    }
    case 8:
      return (c, p) => (data[c * plane + p] ?? 0) / 255;
    case 16:
      return (c, p) => view.getUint16(c * plane + p * 2) / 65535;
    default:
      return (c, p) => {
        const v = view.getFloat32(c * plane + p * 4);
        return v > 0 ? (v < 1 ? v : 1) : 0;
      };
  }
}

/** CIE L*a*b* (D50, as Photoshop stores it) to sRGB, 0–1 each. */
function labToRgb(L: number, a: number, b: number): [number, number, number] {
  const fy = (L + 16) / 116;
  const f = (t: number): number => (t > 6 / 29 ? t ** 3 : 3 * (6 / 29) ** 2 * (t - 4 / 29));
  // D50 white, then Bradford-adapted to D65 and into linear sRGB in one matrix.
  const x = 0.9642 * f(fy + a / 500);
  const y = f(fy);
  const z = 0.8249 * f(fy - b / 200);
  const lin = [3.1338561 * x - 1.6168667 * y - 0.4906146 * z, -0.9787684 * x + 1.9161415 * y + 0.033454 * z, 0.0719453 * x - 0.2289914 * y + 1.4052427 * z];
  const gamma = (v: number): number => {
    const c = v <= 0 ? 0 : v >= 1 ? 1 : v;
    return c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055;
  };
  return [gamma(lin[0] ?? 0), gamma(lin[1] ?? 0), gamma(lin[2] ?? 0)];
}

/** The composite image as interleaved pixels, within `limits`. */
export function decodePsd(buf: Buffer, limits: PsdLimits): PsdPixels {
  const l = layout(buf);
  const pixels = l.width * l.height;
  if (pixels > limits.maxPixels) {
    throw new ProxyError('SOURCE_RESOLUTION_TOO_BIG', `source: resolution ${l.width}x${l.height} is over ${Math.round(limits.maxPixels / 1e4) / 100} MP`);
  }
  const grey = l.mode === PSD_MODES.grey || l.mode === PSD_MODES.duotone || l.mode === PSD_MODES.multichannel || l.mode === PSD_MODES.bitmap;
  const colours = grey ? 1 : 3;
  const inColours = colourChannels(l.mode);
  const channels = (colours + (l.hasAlpha ? 1 : 0)) as 1 | 2 | 3 | 4;
  const wide = limits.highDepth === true && l.depth >= 16;
  const sample = sampler(planes(buf, l, inColours + (l.hasAlpha ? 1 : 0)), l);
  const out = Buffer.alloc(pixels * channels * (wide ? 2 : 1));
  const put = wide ? (i: number, v: number) => out.writeUInt16LE(Math.round(v * 65535), i * 2) : (i: number, v: number) => (out[i] = Math.round(v * 255));
  const palette = l.palette;
  for (let p = 0; p < pixels; p++) {
    const o = p * channels;
    switch (l.mode) {
      case PSD_MODES.rgb:
        put(o, sample(0, p));
        put(o + 1, sample(1, p));
        put(o + 2, sample(2, p));
        break;
      case PSD_MODES.cmyk: {
        // Photoshop stores CMYK inverted (1 = no ink): each channel times the black one.
        const k = sample(3, p);
        put(o, sample(0, p) * k);
        put(o + 1, sample(1, p) * k);
        put(o + 2, sample(2, p) * k);
        break;
      }
      case PSD_MODES.lab: {
        const [r, g, b] = labToRgb(sample(0, p) * 100, sample(1, p) * 255 - 128, sample(2, p) * 255 - 128);
        put(o, r);
        put(o + 1, g);
        put(o + 2, b);
        break;
      }
      case PSD_MODES.indexed: {
        const idx = Math.round(sample(0, p) * 255);
        put(o, (palette?.[idx] ?? 0) / 255);
        put(o + 1, (palette?.[256 + idx] ?? 0) / 255);
        put(o + 2, (palette?.[512 + idx] ?? 0) / 255);
        break;
      }
      default:
        put(o, sample(0, p));
    }
    if (l.hasAlpha) put(o + colours, sample(inColours, p));
  }
  return { data: out, width: l.width, height: l.height, channels, depth: wide ? 'ushort' : 'uchar' };
}

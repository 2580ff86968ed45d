/**
 * Reading BMP, which libvips as shipped with sharp cannot load: every bit depth (1, 2, 4, 8,
 * 16, 24, 32), uncompressed, RLE8 and RLE4 (with their end-of-line, end-of-file, delta and
 * absolute escapes), bit fields of any mask, bottom-up and top-down rows, the OS/2 and Windows
 * header variants, and the JPEG/PNG payloads a BMP may wrap (handed to libvips as they are).
 * The layout is Microsoft's (https://learn.microsoft.com/en-us/windows/win32/gdi/bitmap-storage);
 * where readers disagree we do what imgproxy's own loader does
 * (https://github.com/imgproxy/imgproxy/blob/master/vips/bmpload.c): pixels an RLE delta skips
 * stay black, a row longer than the image is cut.
 *
 * The decoding functions are synchronous and pure: the codec row below runs them in a worker
 * thread (worker-decode.ts), the ICO reader reuses them for its bitmap entries. Every offset and
 * size read from the file is checked against the buffer before use, and the pixel count
 * against the limits before anything is allocated: a header that lies ends in a 422, never in
 * a RangeError (500) or a huge allocation.
 */
import { bad, checkPixels } from './refuse.js';
import { workerReader } from './worker-decode.js';

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

/** No real bitmap gets near this; it bounds what a forged header can make us allocate. */
export const MAX_SIDE = 65_535;

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

interface Masks {
  r: number;
  g: number;
  b: number;
  a: number;
}

export interface DibHeader {
  headerSize: number;
  width: number;
  height: number;
  topDown: boolean;
  bpp: number;
  compression: number;
  colorsUsed: number;
  masks: Masks | null;
  /** Where the palette starts (after the header, and after masks stored outside it). */
  afterHeader: number;
}

/** Whether the image has an alpha channel worth keeping, as far as the header can tell. */
export function dibHasAlpha(h: DibHeader): boolean {
  return h.masks !== null && h.masks.a !== 0;
}

/**
 * The DIB header at `at` (the BITMAPINFOHEADER family; an ICO bitmap declares the XOR and AND
 * masks' heights together, `ico` halves it).
 */
export function readDibHeader(buf: Buffer, at: number, ico: boolean): DibHeader {
  if (at < 0 || at + 16 > buf.length) throw bad('BMP: truncated header');
  const headerSize = buf.readUInt32LE(at);
  let width: number;
  let rawHeight: number;
  let bpp: number;
  let compression = BI_RGB;
  let colorsUsed = 0;
  if (headerSize === 12) {
    // BITMAPCOREHEADER (OS/2 1.x): 16-bit sizes, RGB triples in the palette.
    width = buf.readUInt16LE(at + 4);
    rawHeight = buf.readInt16LE(at + 6);
    bpp = buf.readUInt16LE(at + 10);
  } else if (headerSize >= 16 && headerSize <= 256) {
    if (at + headerSize > buf.length) throw bad('BMP: truncated header');
    width = buf.readInt32LE(at + 4);
    rawHeight = buf.readInt32LE(at + 8);
    bpp = buf.readUInt16LE(at + 14);
    if (headerSize >= 20) compression = buf.readUInt32LE(at + 16);
    if (headerSize >= 36) colorsUsed = buf.readUInt32LE(at + 32);
    // OS/2 2.x headers (16 or 64 bytes) give codes 3 and 4 other meanings: Huffman 1D and RLE24.
    if ((headerSize === 16 || headerSize === 64) && (compression === 3 || compression === 4)) {
      throw bad(`BMP: OS/2 compression ${compression === 3 ? 'Huffman 1D' : 'RLE24'} is not supported`);
    }
  } else {
    throw bad(`BMP: unknown header size ${headerSize}`);
  }
  const topDown = rawHeight < 0;
  let height = Math.abs(rawHeight);
  if (ico) height = Math.floor(height / 2);
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE) throw bad(`BMP: unsupported dimensions ${width}x${height}`);
  if (![1, 2, 4, 8, 16, 24, 32].includes(bpp) && compression !== BI_JPEG && compression !== BI_PNG) throw bad(`BMP: unsupported bit depth ${bpp}`);

  let masks: Masks | null = null;
  let afterHeader = at + headerSize;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    if (bpp !== 16 && bpp !== 32) throw bad('BMP: bit fields need 16 or 32 bits per pixel');
    const withAlpha = compression === BI_ALPHABITFIELDS || headerSize >= 56;
    // V2+ headers (52 bytes and more) hold the masks; a 40-byte header is followed by them.
    const m = headerSize >= 52 ? at + 40 : afterHeader;
    const n = withAlpha ? 16 : 12;
    if (m + n > buf.length) throw bad('BMP: truncated bit field masks');
    masks = { r: buf.readUInt32LE(m), g: buf.readUInt32LE(m + 4), b: buf.readUInt32LE(m + 8), a: withAlpha ? buf.readUInt32LE(m + 12) : 0 };
    for (const mask of [masks.r, masks.g, masks.b, masks.a]) {
      if (!contiguous(mask)) throw bad(`BMP: bit field mask ${mask.toString(16)} is not contiguous`);
    }
    if (headerSize < 52) afterHeader += n;
  } else if (compression === BI_RLE8 || compression === BI_RLE4) {
    if (bpp !== (compression === BI_RLE8 ? 8 : 4)) throw bad(`BMP: RLE${compression === BI_RLE8 ? 8 : 4} with ${bpp} bits per pixel`);
  } else if (compression === BI_RGB) {
    if (bpp === 16) masks = { r: 0x7c00, g: 0x03e0, b: 0x001f, a: 0 };
    // 32-bit BI_RGB: the fourth byte is alpha in V4/V5 files that say so, "unused" in the
    // others unless some pixel sets it (decodeDib looks).
    else if (bpp === 32) masks = { r: 0x00ff0000, g: 0x0000ff00, b: 0x000000ff, a: headerSize >= 108 ? buf.readUInt32LE(at + 52) : 0xff000000 };
  } else if (compression !== BI_JPEG && compression !== BI_PNG) {
    throw bad(`BMP: compression ${compression} is not supported`);
  }
  return { headerSize, width, height, topDown, bpp, compression, colorsUsed, masks, afterHeader };
}

function contiguous(mask: number): boolean {
  if (mask === 0) return true;
  let m = mask >>> 0;
  while ((m & 1) === 0) m >>>= 1;
  return (m & (m + 1)) === 0;
}

/** The BMP file header and DIB header: size without decoding anything. */
export function probeBmp(buf: Buffer): { width: number; height: number; hasAlpha: boolean } {
  if (buf.length < 26 || buf[0] !== 0x42 || buf[1] !== 0x4d) throw bad('not a BMP file');
  const h = readDibHeader(buf, 14, false);
  return { width: h.width, height: h.height, hasAlpha: dibHasAlpha(h) };
}

/** A whole BMP file → raw pixels, or the JPEG/PNG it wraps. */
export function decodeBmp(buf: Buffer, maxPixels: number): RawImage | { encoded: Buffer } {
  if (buf.length < 26 || buf[0] !== 0x42 || buf[1] !== 0x4d) throw bad('not a BMP file');
  return decodeDib(buf, 14, buf.readUInt32LE(10), false, maxPixels);
}

function readPalette(buf: Buffer, h: DibHeader): { palette: Uint8Array; end: number } {
  const maxColors = 1 << h.bpp;
  const count = h.colorsUsed > 0 && h.colorsUsed <= maxColors ? h.colorsUsed : maxColors;
  const entry = h.headerSize === 12 ? 3 : 4;
  const pos = h.afterHeader;
  // Files that declare fewer colours than they use are common: missing entries read black,
  // and an index past the palette reads black instead of out of bounds (256 entries always).
  const available = Math.max(0, Math.min(count, Math.floor((buf.length - pos) / entry)));
  if (available === 0) throw bad('BMP: truncated palette');
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < available; i++) {
    palette[i * 3] = buf[pos + i * entry + 2] ?? 0;
    palette[i * 3 + 1] = buf[pos + i * entry + 1] ?? 0;
    palette[i * 3 + 2] = buf[pos + i * entry] ?? 0;
  }
  return { palette, end: pos + count * entry };
}

/**
 * Decodes a DIB (a BMP without its 14-byte file header, as ICO stores it) at `at`, pixels at
 * `pixelOffset` (undefined: right after the palette, the ICO layout).
 */
export function decodeDib(buf: Buffer, at: number, pixelOffset: number | undefined, ico: boolean, maxPixels: number): RawImage | { encoded: Buffer } {
  const h = readDibHeader(buf, at, ico);
  const { width: w, height: ht, bpp } = h;
  checkPixels(w, ht, maxPixels);
  if (h.compression === BI_JPEG || h.compression === BI_PNG) {
    const start = pixelOffset ?? h.afterHeader;
    if (start <= at || start >= buf.length) throw bad('BMP: pixel data offset outside the file');
    return { encoded: buf.subarray(start) };
  }
  const pal = bpp <= 8 ? readPalette(buf, h) : null;
  const start = pixelOffset ?? pal?.end ?? h.afterHeader;
  if (start < 0 || start >= buf.length) throw bad('BMP: pixel data offset outside the file');
  if (pal && (h.compression === BI_RLE8 || h.compression === BI_RLE4)) return decodeRle(buf, start, h, pal.palette);

  const stride = Math.floor((w * bpp + 31) / 32) * 4;
  if (start + stride * ht > buf.length) throw bad('BMP: truncated pixel data');
  const out = Buffer.alloc(w * ht * 4);
  const masks = h.masks;
  let alphaSeen = false;
  for (let y = 0; y < ht; y++) {
    const srcRow = start + (h.topDown ? y : ht - 1 - y) * stride;
    let d = y * w * 4;
    if (pal) {
      const bits = (1 << bpp) - 1;
      for (let x = 0; x < w; x++, d += 4) {
        const bitPos = x * bpp;
        const idx = ((buf[srcRow + (bitPos >> 3)] ?? 0) >> (8 - bpp - (bitPos & 7))) & bits;
        out[d] = pal.palette[idx * 3] ?? 0;
        out[d + 1] = pal.palette[idx * 3 + 1] ?? 0;
        out[d + 2] = pal.palette[idx * 3 + 2] ?? 0;
        out[d + 3] = 255;
      }
    } else if (bpp === 24) {
      for (let x = 0, s = srcRow; x < w; x++, d += 4, s += 3) {
        out[d] = buf[s + 2] ?? 0;
        out[d + 1] = buf[s + 1] ?? 0;
        out[d + 2] = buf[s] ?? 0;
        out[d + 3] = 255;
      }
    } else if (masks) {
      const shifts = [maskShift(masks.r), maskShift(masks.g), maskShift(masks.b), maskShift(masks.a)] as const;
      for (let x = 0; x < w; x++, d += 4) {
        const v = bpp === 16 ? buf.readUInt16LE(srcRow + x * 2) : buf.readUInt32LE(srcRow + x * 4);
        out[d] = channel(v, masks.r, shifts[0]);
        out[d + 1] = channel(v, masks.g, shifts[1]);
        out[d + 2] = channel(v, masks.b, shifts[2]);
        const a = masks.a ? channel(v, masks.a, shifts[3]) : 255;
        out[d + 3] = a;
        if (a !== 0) alphaSeen = true;
      }
    }
  }
  const alphaChannel = dibHasAlpha(h);
  // Plain 32-bit files often leave the fourth byte at 0 meaning "unused": an all-zero alpha
  // channel is no alpha at all (browsers read them so; a fully transparent icon would be useless).
  if (alphaChannel && !alphaSeen) for (let i = 3; i < out.length; i += 4) out[i] = 255;
  const keepAlpha = alphaChannel && alphaSeen;

  if (ico) {
    // The 1-bit AND mask follows the colour bitmap: the transparency of images without alpha.
    const maskStride = Math.floor((w + 31) / 32) * 4;
    const maskStart = start + stride * ht;
    if (!keepAlpha && maskStart + maskStride * ht <= buf.length) {
      for (let y = 0; y < ht; y++) {
        const row = maskStart + (h.topDown ? y : ht - 1 - y) * maskStride;
        for (let x = 0; x < w; x++) {
          if ((((buf[row + (x >> 3)] ?? 0) >> (7 - (x & 7))) & 1) === 1) out[(y * w + x) * 4 + 3] = 0;
        }
      }
      return { data: out, width: w, height: ht, channels: 4 };
    }
  }
  if (keepAlpha) return { data: out, width: w, height: ht, channels: 4 };
  return { data: dropAlpha(out, w * ht), width: w, height: ht, channels: 3 };
}

/**
 * RLE8 and RLE4: pairs of (count, index) runs, and escapes after a zero count: 0 ends the row,
 * 1 the image, 2 moves right and down by the next two bytes, 3–255 that many literal indices
 * (padded to a 16-bit boundary). Rows run bottom-up unless the height is negative.
 */
function decodeRle(buf: Buffer, start: number, h: DibHeader, palette: Uint8Array): RawImage {
  const { width: w, height: ht } = h;
  const four = h.compression === BI_RLE4;
  const out = Buffer.alloc(w * ht * 3);
  let x = 0;
  let row = 0;
  let p = start;
  const put = (index: number): void => {
    if (x < w && row < ht) {
      const d = ((h.topDown ? row : ht - 1 - row) * w + x) * 3;
      out[d] = palette[index * 3] ?? 0;
      out[d + 1] = palette[index * 3 + 1] ?? 0;
      out[d + 2] = palette[index * 3 + 2] ?? 0;
    }
    x++;
  };
  for (;;) {
    if (row >= ht) break;
    if (p + 2 > buf.length) {
      // Files whose last row ends without an end-of-image escape are whole; any other end is not.
      if (row === ht - 1 && x >= w) break;
      throw bad('BMP: RLE data ends early');
    }
    const count = buf[p] ?? 0;
    const value = buf[p + 1] ?? 0;
    p += 2;
    if (count > 0) {
      // Past the row's end the run is cut (the rest of it has nowhere to go).
      const n = Math.min(count, Math.max(0, w - x));
      for (let i = 0; i < n; i++) put(four ? (i & 1 ? value & 0x0f : value >> 4) : value);
      x += count - n;
    } else if (value === 0) {
      row++;
      x = 0;
    } else if (value === 1) {
      break;
    } else if (value === 2) {
      if (p + 2 > buf.length) throw bad('BMP: RLE delta ends early');
      x += buf[p] ?? 0;
      row += buf[p + 1] ?? 0;
      p += 2;
    } else {
      const bytes = four ? Math.ceil(value / 2) : value;
      if (p + bytes > buf.length) throw bad('BMP: RLE literal run ends early');
      for (let i = 0; i < value; i++) {
        const b = buf[p + (four ? i >> 1 : i)] ?? 0;
        put(four ? (i & 1 ? b & 0x0f : b >> 4) : b);
      }
      p += bytes + (bytes & 1);
    }
  }
  return { data: out, width: w, height: ht, channels: 3 };
}

function maskShift(mask: number): number {
  if (mask === 0) return 0;
  let m = mask >>> 0;
  let shift = 0;
  while ((m & 1) === 0) {
    m >>>= 1;
    shift++;
  }
  return shift;
}

function channel(v: number, mask: number, shift: number): number {
  if (mask === 0) return 0;
  const max = (mask >>> 0) >>> shift;
  return Math.round(((((v >>> 0) & (mask >>> 0)) >>> shift) * 255) / max);
}

function dropAlpha(rgba: Buffer, pixels: number): Buffer {
  const out = Buffer.allocUnsafe(pixels * 3);
  for (let i = 0, j = 0; i < pixels; i++, j += 3) {
    out[j] = rgba[i * 4] ?? 0;
    out[j + 1] = rgba[i * 4 + 1] ?? 0;
    out[j + 2] = rgba[i * 4 + 2] ?? 0;
  }
  return out;
}

export const bmpReader = workerReader('bmp', 'pixproxy (JavaScript, worker thread)', probeBmp);

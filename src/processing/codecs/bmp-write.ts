/**
 * Writing BMP, which libvips as shipped with sharp cannot save: raw pixels into the most widely
 * readable layouts (24-bit BI_RGB, or 32-bit BITMAPV4 with an alpha mask). The tests and the
 * hostile corpus make their BMP sources with it.
 */

const BI_RGB = 0;
const BI_BITFIELDS = 3;

/**
 * Raw pixels → BMP. Opaque input (1 or 3 channels) gives a 24-bit BI_RGB file, the most
 * widely readable; input with alpha gives a 32-bit BITMAPV4 file with an alpha mask.
 */
export function encodeBmp(raw: Buffer, width: number, height: number, channels: 1 | 2 | 3 | 4): Buffer {
  if (raw.length < width * height * channels) throw new RangeError('encodeBmp: raw buffer smaller than width × height × channels');
  const alpha = channels === 2 || channels === 4;
  const bpp = alpha ? 32 : 24;
  const headerSize = alpha ? 108 : 40;
  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  const dataOffset = 14 + headerSize;
  const out = Buffer.alloc(dataOffset + stride * height);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(dataOffset, 10);
  out.writeUInt32LE(headerSize, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22); // positive: bottom-up, the form every reader supports
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(bpp, 28);
  out.writeUInt32LE(alpha ? BI_BITFIELDS : BI_RGB, 30);
  out.writeUInt32LE(stride * height, 34);
  out.writeInt32LE(2835, 38); // 72 dpi
  out.writeInt32LE(2835, 42);
  if (alpha) {
    out.writeUInt32LE(0x00ff0000, 54);
    out.writeUInt32LE(0x0000ff00, 58);
    out.writeUInt32LE(0x000000ff, 62);
    out.writeUInt32LE(0xff000000, 66);
    out.write('BGRs', 70, 'latin1'); // LCS_sRGB, stored little-endian
  }
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * channels;
      const grey = channels <= 2;
      const r = raw[s] ?? 0;
      const g = grey ? r : (raw[s + 1] ?? 0);
      const b = grey ? r : (raw[s + 2] ?? 0);
      const d = row + x * (bpp / 8);
      out[d] = b;
      out[d + 1] = g;
      out[d + 2] = r;
      if (alpha) out[d + 3] = raw[s + channels - 1] ?? 255;
    }
  }
  return out;
}

// The PSD/PSB composite reader on files written by test/helpers/psd.ts: every colour mode and
// depth it claims, both compressions, PSB's wide lengths, the transparency rule, and headers
// that lie (refused before anything is allocated for them).
import { describe, expect, it } from 'vitest';
import { decodePsd, readPsdHeader } from '../../../../src/processing/codecs/psd-read.js';
import { plane16, plane8, writePsd } from '../../../helpers/psd.js';
import { expectProxyError } from '../../../helpers/dialects.js';

const W = 5;
const H = 3;
const LIMIT = { maxPixels: 1e6 };
const first = (d: { data: Buffer; channels: number }): number[] => [...d.data.subarray(0, d.channels)];

describe('PSD composite', () => {
  it.each([0, 1] as const)('RGB, 8-bit, compression %d', (compression) => {
    const f = writePsd({ width: W, height: H, mode: 3, depth: 8, compression, planes: [plane8(W, H, 200), plane8(W, H, 40), plane8(W, H, 90)] });
    const d = decodePsd(f, LIMIT);
    expect([d.width, d.height, d.channels, d.depth]).toEqual([W, H, 3, 'uchar']);
    expect(first(d)).toEqual([200, 40, 90]);
    expect(d.data.length).toBe(W * H * 3);
  });

  it('a row PackBits cannot shorten (all literals) and long runs both decode', () => {
    const noisy = Buffer.from(Array.from({ length: 300 * 2 }, (_, i) => (i * 37) % 251));
    const f = writePsd({ width: 300, height: 2, mode: 1, depth: 8, compression: 1, planes: [noisy] });
    expect(decodePsd(f, LIMIT).data.equals(noisy)).toBe(true);
  });

  it('RGB 16-bit: 8 bits out by default, 16 when asked', () => {
    const f = writePsd({ width: W, height: H, mode: 3, depth: 16, planes: [plane16(W, H, 65535), plane16(W, H, 0), plane16(W, H, 32896)] });
    expect(readPsdHeader(f).depth).toBe(16);
    expect(first(decodePsd(f, LIMIT))).toEqual([255, 0, 128]);
    const wide = decodePsd(f, { ...LIMIT, highDepth: true });
    expect(wide.depth).toBe('ushort');
    expect([wide.data.readUInt16LE(0), wide.data.readUInt16LE(2), wide.data.readUInt16LE(4)]).toEqual([65535, 0, 32896]);
  });

  it('greyscale with transparency (negative layer count)', () => {
    const f = writePsd({ width: W, height: H, mode: 1, depth: 8, alpha: true, planes: [plane8(W, H, 77), plane8(W, H, 128)] });
    expect(readPsdHeader(f).hasAlpha).toBe(true);
    const d = decodePsd(f, LIMIT);
    expect([d.channels, ...first(d)]).toEqual([2, 77, 128]);
  });

  it('an extra channel without the negative layer count is a saved selection, not alpha', () => {
    const f = writePsd({ width: W, height: H, mode: 3, depth: 8, planes: [plane8(W, H, 1), plane8(W, H, 2), plane8(W, H, 3), plane8(W, H, 0)] });
    expect(decodePsd(f, LIMIT).channels).toBe(3);
  });

  it('CMYK (stored inverted: 255 = no ink) becomes RGB', () => {
    // 100 % cyan ink (0), no magenta or yellow (255), no black (255): cyan.
    const f = writePsd({ width: W, height: H, mode: 4, depth: 8, planes: [plane8(W, H, 0), plane8(W, H, 255), plane8(W, H, 255), plane8(W, H, 255)] });
    expect(first(decodePsd(f, LIMIT))).toEqual([0, 255, 255]);
  });

  it('bitmap (a set bit is black) and indexed (the palette)', () => {
    const bits = writePsd({ width: 8, height: 1, mode: 0, depth: 1, planes: [Buffer.from([0b10100000])] });
    expect([...decodePsd(bits, LIMIT).data.subarray(0, 3)]).toEqual([0, 255, 0]);
    const palette = Buffer.alloc(768);
    palette[5] = 10;
    palette[256 + 5] = 20;
    palette[512 + 5] = 30;
    const indexed = writePsd({ width: W, height: H, mode: 2, depth: 8, palette, planes: [plane8(W, H, 5)] });
    expect(first(decodePsd(indexed, LIMIT))).toEqual([10, 20, 30]);
  });

  it('Lab white and 32-bit float grey', () => {
    const lab = writePsd({ width: W, height: H, mode: 9, depth: 8, planes: [plane8(W, H, 255), plane8(W, H, 128), plane8(W, H, 128)] });
    for (const c of first(decodePsd(lab, LIMIT))) expect(c).toBeGreaterThan(250);
    const float = Buffer.alloc(W * H * 4);
    for (let i = 0; i < W * H; i++) float.writeFloatBE(0.5, i * 4);
    expect(first(decodePsd(writePsd({ width: W, height: H, mode: 1, depth: 32, planes: [float] }), LIMIT))).toEqual([128]);
  });

  it('PSB: 8-byte layer section length and 4-byte PackBits row counts', () => {
    const f = writePsd({ version: 2, width: W, height: H, mode: 3, depth: 8, compression: 1, alpha: true, planes: [plane8(W, H, 9), plane8(W, H, 8), plane8(W, H, 7), plane8(W, H, 255)] });
    expect(readPsdHeader(f).version).toBe(2);
    expect(first(decodePsd(f, LIMIT))).toEqual([9, 8, 7, 255]);
  });

  it('a header claiming more than the limit is refused before decoding', () => {
    const f = writePsd({ width: W, height: H, mode: 3, depth: 8, planes: [plane8(W, H, 1), plane8(W, H, 1), plane8(W, H, 1)], claim: { width: 30_000, height: 30_000 } });
    expect(() => decodePsd(f, LIMIT)).toThrow(expect.objectContaining({ code: 'SOURCE_RESOLUTION_TOO_BIG' }));
  });

  it.each<[string, Buffer]>([
    ['truncated pixels', writePsd({ width: W, height: H, mode: 3, depth: 8, planes: [plane8(W, H, 1), plane8(W, H, 1), plane8(W, H, 1)] }).subarray(0, 60)],
    ['truncated header', Buffer.from('8BPS\x00\x01', 'latin1')],
    ['a side over 30,000 in a PSD', writePsd({ width: W, height: H, mode: 3, depth: 8, planes: [plane8(W, H, 1), plane8(W, H, 1), plane8(W, H, 1)], claim: { width: 30_001, height: 1 } })],
    ['too few channels for RGB', writePsd({ width: W, height: H, mode: 3, depth: 8, planes: [plane8(W, H, 1)] })],
    ['an unknown depth', (() => {
      const f = writePsd({ width: W, height: H, mode: 3, depth: 8, planes: [plane8(W, H, 1), plane8(W, H, 1), plane8(W, H, 1)] });
      f.writeUInt16BE(12, 22);
      return f;
    })()],
    ['an image resources length past the end', (() => {
      const f = writePsd({ width: W, height: H, mode: 3, depth: 8, planes: [plane8(W, H, 1), plane8(W, H, 1), plane8(W, H, 1)] });
      f.writeUInt32BE(0xfffffff0, 30);
      return f;
    })()],
  ])('%s: 422, not a RangeError', (_name, f) => {
    expectProxyError(() => decodePsd(f, LIMIT), 422);
  });
});

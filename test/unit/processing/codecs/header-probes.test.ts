// The header probes that refuse a bomb before any decoder runs: JPEG XL's SizeHeader (bare
// codestream and ISO-BMFF container) and HEIF's image-size properties.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { largestIspe } from '../../../../src/processing/codecs/heic-read.js';
import { probeJxl } from '../../../../src/processing/codecs/jxl-read.js';
import { heicOf, jxlOf } from '../../../fixtures/generate.js';

function box(type: string, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(8 + payload.length, 0);
  head.write(type, 4, 'latin1');
  return Buffer.concat([head, payload]);
}

const SIGNATURE = Buffer.from([0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20, 0x0d, 0x0a, 0x87, 0x0a]);
const FTYP = box('ftyp', Buffer.from('jxl \0\0\0\0jxl ', 'latin1'));

/** Little-endian bit packing, as JPEG XL reads its headers. */
function bits(fields: [number, number][]): Buffer {
  let v = 0n;
  let n = 0n;
  for (const [value, count] of fields) {
    v |= BigInt(value) << n;
    n += BigInt(count);
  }
  const out = Buffer.alloc(Number((n + 7n) / 8n) + 8);
  for (let i = 0; i < out.length; i++) out[i] = Number((v >> BigInt(i * 8)) & 0xffn);
  return Buffer.concat([Buffer.from([0xff, 0x0a]), out]);
}

describe('JPEG XL probe', () => {
  it('reads the size libjxl wrote, bare and in the container (jxlc, or split in jxlp boxes)', async () => {
    const stream = await jxlOf(Buffer.alloc(120 * 80 * 4, 200), 120, 80);
    expect(probeJxl(stream)).toEqual({ width: 120, height: 80 });
    expect(probeJxl(Buffer.concat([SIGNATURE, FTYP, box('jxlc', stream)]))).toEqual({ width: 120, height: 80 });
    const index = (i: number) => Buffer.from([0, 0, 0, i]);
    const split = Buffer.concat([SIGNATURE, FTYP, box('jxll', Buffer.from([5])), box('jxlp', Buffer.concat([index(0), stream.subarray(0, 3)])), box('jxlp', Buffer.concat([index(1), stream.subarray(3)]))]);
    expect(probeJxl(split)).toEqual({ width: 120, height: 80 });
  });

  it('small sizes in eighths, the width from the aspect ratio code, and orientation 5–8 swapping sides', () => {
    // div8 = 1, height (9 + 1) × 8 = 80, ratio 3 (4:3) → width 106; ImageMetadata all_default.
    expect(probeJxl(bits([[1, 1], [9, 5], [3, 3], [1, 1]]))).toEqual({ width: 106, height: 80 });
    // Same with extra_fields and orientation 6 (stored − 1 = 5): the decoded image is 80 × 106.
    expect(probeJxl(bits([[1, 1], [9, 5], [3, 3], [0, 1], [1, 1], [5, 3]]))).toEqual({ width: 80, height: 106 });
    // 30-bit sides: what a bomb claims, read without decoding.
    expect(probeJxl(bits([[0, 1], [3, 2], [2 ** 30 - 1, 30], [0, 3], [3, 2], [99_999, 30], [1, 1]]))).toEqual({ width: 100_000, height: 2 ** 30 });
  });

  it('refuses a truncated header and a container without a codestream, quickly', () => {
    expect(() => probeJxl(Buffer.from([0xff, 0x0a]))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_IMAGE' }));
    const tiny = Buffer.concat(Array.from({ length: 200_000 }, () => box('free', Buffer.alloc(0))));
    const started = Date.now();
    expect(() => probeJxl(Buffer.concat([SIGNATURE, FTYP, tiny]))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_IMAGE' }));
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('HEIF image sizes', () => {
  it('finds the largest ispe in the meta box, which the decoder refuses from', async () => {
    const heic = heicOf(await sharp({ create: { width: 128, height: 64, channels: 3, background: '#345' } }).png().toBuffer());
    expect(heic, 'heif-enc is needed (scripts/ci-packages.txt)').not.toBeNull();
    const file = heic as Buffer;
    // (Sides that are whole HEVC coding blocks: heif-enc codes others padded, cropped by `clap`.)
    expect(largestIspe(file)).toEqual({ width: 128, height: 64 });
    const patched = Buffer.from(file);
    const at = patched.indexOf('ispe');
    patched.writeUInt32BE(70_000, at + 8);
    patched.writeUInt32BE(70_000, at + 12);
    expect(largestIspe(patched)).toEqual({ width: 70_000, height: 70_000 });
  });
});

/**
 * Reading JPEG XL, which libvips as shipped with sharp cannot load (it is built without
 * libjxl). The pixels come from libjxl compiled to WASM, as the `@jsquash/jxl` package ships it
 * (Apache-2.0, https://github.com/jamsinclair/jSquash), run in a worker thread
 * (worker-decode.ts, jxl-wasm.ts). libjxl decodes the first frame to 8-bit sRGB with the
 * orientation applied.
 *
 * The probe reads the size from the codestream's SizeHeader and the orientation from the
 * start of its ImageMetadata (ISO/IEC 18181-1 §A.2 and §A.6; the same fields libjxl's
 * `JxlSignatureCheck`/`JxlDecoderGetBasicInfo` read), in the bare codestream (`FF 0A`) or in
 * the ISO-BMFF container (its `jxlc` box, or the `jxlp` boxes in order), so a dimension bomb
 * is refused before the WASM decoder allocates anything.
 */
import { bad } from './refuse.js';
import { workerReader } from './worker-decode.js';

/** The SizeHeader and the first fields of ImageMetadata need a few dozen bytes at most. */
const HEADER_BYTES = 64;
/** How many container boxes are looked at for the codestream. */
const MAX_BOXES = 1024;

class Bits {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  read(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const byte = this.buf[this.pos >> 3];
      if (byte === undefined) throw bad('JPEG XL: truncated header');
      v += ((byte >> (this.pos & 7)) & 1) * 2 ** i;
      this.pos++;
    }
    return v;
  }

  bool(): boolean {
    return this.read(1) === 1;
  }

  /** U32(Bits(9)+1, Bits(13)+1, Bits(18)+1, Bits(30)+1): how SizeHeader stores a side. */
  side(): number {
    const bits = [9, 13, 18, 30][this.read(2)] as number;
    return this.read(bits) + 1;
  }
}

/** Width = height × ratio for the seven `ratio` codes of SizeHeader. */
const RATIOS: readonly (readonly [number, number])[] = [
  [1, 1],
  [12, 10],
  [4, 3],
  [3, 2],
  [16, 9],
  [5, 4],
  [2, 1],
];

/** The codestream's first bytes: the bare file, or the payload of the container's codestream boxes. */
export function jxlCodestream(buf: Buffer): Buffer {
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0x0a) return buf;
  if (buf.length < 12 || buf.toString('latin1', 4, 8) !== 'JXL ') throw bad('not a JPEG XL file');
  const parts: Buffer[] = [];
  let got = 0;
  // The codestream's first box comes early; a file of endless tiny boxes is not read to its end.
  for (let at = 0, boxes = 0; at + 8 <= buf.length && got < HEADER_BYTES; boxes++) {
    if (boxes >= MAX_BOXES) throw bad('JPEG XL: no codestream in the first boxes of the container');
    let size = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    let head = 8;
    if (size === 1) {
      if (at + 16 > buf.length) break;
      size = Number(buf.readBigUInt64BE(at + 8));
      head = 16;
    } else if (size === 0) {
      size = buf.length - at;
    }
    if (size < head) throw bad('JPEG XL: broken container box');
    const end = Math.min(buf.length, at + size);
    let part: Buffer | null = null;
    if (type === 'jxlc') part = buf.subarray(at + head, end);
    // jxlp: a 4-byte sequence index, then the next piece of the codestream.
    else if (type === 'jxlp') part = buf.subarray(Math.min(end, at + head + 4), end);
    if (part) {
      parts.push(part);
      got += part.length;
    }
    at += size;
  }
  const stream = Buffer.concat(parts);
  if (stream.length < 2 || stream[0] !== 0xff || stream[1] !== 0x0a) throw bad('JPEG XL: no codestream in the container');
  return stream;
}

/** Size as decoded (orientation applied) from the SizeHeader and ImageMetadata. */
export function probeJxl(buf: Buffer): { width: number; height: number } {
  const stream = jxlCodestream(buf);
  const r = new Bits(stream.subarray(2, 2 + HEADER_BYTES));
  const div8 = r.bool();
  const height = div8 ? (r.read(5) + 1) * 8 : r.side();
  const ratio = r.read(3);
  let width: number;
  if (ratio === 0) width = div8 ? (r.read(5) + 1) * 8 : r.side();
  else {
    const [num, den] = RATIOS[ratio - 1] as readonly [number, number];
    width = Math.floor((height * num) / den);
  }
  // ImageMetadata: all_default, then extra_fields, then orientation − 1 in 3 bits.
  let orientation = 1;
  if (!r.bool() && r.bool()) orientation = r.read(3) + 1;
  return orientation >= 5 ? { width: height, height: width } : { width, height };
}

export const jxlReader = workerReader('jxl', '@jsquash/jxl (libjxl in WASM, worker thread)', probeJxl);

/**
 * Writes Photoshop files for tests, after Adobe's Photoshop File Formats Specification
 * (https://www.adobe.com/devnet-apps/photoshop/fileformatashtml/): PSD or PSB, any colour
 * mode and depth, the composite stored raw or PackBits-compressed, and a layer section whose
 * negative layer count marks the first extra channel as the composite's transparency.
 */

export interface PsdSpec {
  width: number;
  height: number;
  /** 1 = PSD, 2 = PSB. */
  version?: 1 | 2;
  /** 0 bitmap, 1 grey, 2 indexed, 3 RGB, 4 CMYK, 9 Lab. */
  mode: number;
  depth: 1 | 8 | 16 | 32;
  /** One plane per channel, each `rowBytes × height` bytes as the file stores them (big-endian samples). */
  planes: Buffer[];
  compression?: 0 | 1;
  /** The last plane is the composite's transparency (layer count −1). */
  alpha?: boolean;
  palette?: Buffer;
  /** Header size claims, to forge a file whose header lies. */
  claim?: { width: number; height: number };
}

/** PackBits, one literal run per 128 bytes at most (what a writer may do; readers must accept it). */
function packBits(row: Buffer): Buffer {
  const out: number[] = [];
  for (let i = 0; i < row.length; ) {
    // A run of equal bytes as a repeat, else up to 128 literals.
    let run = 1;
    while (i + run < row.length && run < 128 && row[i + run] === row[i]) run++;
    if (run >= 3) {
      out.push(257 - run, row[i] ?? 0);
      i += run;
    } else {
      const n = Math.min(128, row.length - i);
      out.push(n - 1, ...row.subarray(i, i + n));
      i += n;
    }
  }
  return Buffer.from(out);
}

export function writePsd(s: PsdSpec): Buffer {
  const version = s.version ?? 1;
  const header = Buffer.alloc(26);
  header.write('8BPS', 0, 'latin1');
  header.writeUInt16BE(version, 4);
  header.writeUInt16BE(s.planes.length, 12);
  header.writeUInt32BE(s.claim?.height ?? s.height, 14);
  header.writeUInt32BE(s.claim?.width ?? s.width, 18);
  header.writeUInt16BE(s.depth, 22);
  header.writeUInt16BE(s.mode, 24);
  const len = (n: number, wide = false): Buffer => {
    const b = Buffer.alloc(wide ? 8 : 4);
    if (wide) b.writeBigUInt64BE(BigInt(n));
    else b.writeUInt32BE(n);
    return b;
  };
  const colour = s.palette ? Buffer.concat([len(s.palette.length), s.palette]) : len(0);
  const wide = version === 2;
  let layers = len(0, wide);
  if (s.alpha) {
    // Layer info: its length, then a layer count of −1 (no layer records follow).
    const count = Buffer.alloc(2);
    count.writeInt16BE(-1);
    const info = Buffer.concat([len(2, wide), count]);
    layers = Buffer.concat([len(info.length, wide), info]);
  }
  const rowBytes = Math.ceil((s.width * s.depth) / 8);
  const compression = Buffer.alloc(2);
  compression.writeUInt16BE(s.compression ?? 0);
  let data: Buffer;
  if ((s.compression ?? 0) === 1) {
    const rows: Buffer[] = [];
    for (const plane of s.planes) for (let y = 0; y < s.height; y++) rows.push(packBits(plane.subarray(y * rowBytes, (y + 1) * rowBytes)));
    const counts = Buffer.alloc(rows.length * (wide ? 4 : 2));
    rows.forEach((r, i) => (wide ? counts.writeUInt32BE(r.length, i * 4) : counts.writeUInt16BE(r.length, i * 2)));
    data = Buffer.concat([counts, ...rows]);
  } else {
    data = Buffer.concat(s.planes);
  }
  return Buffer.concat([header, colour, len(0), layers, compression, data]);
}

/** A plane of one 8-bit value. */
export const plane8 = (width: number, height: number, v: number): Buffer => Buffer.alloc(width * height, v);

/** A plane of one 16-bit value (big-endian, as the file stores it). */
export function plane16(width: number, height: number, v: number): Buffer {
  const b = Buffer.alloc(width * height * 2);
  for (let i = 0; i < width * height; i++) b.writeUInt16BE(v, i * 2);
  return b;
}

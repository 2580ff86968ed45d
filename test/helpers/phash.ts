// Perceptual hash (DCT pHash, 64 bits) and pixel distance, for comparing images without bytes.
import sharp from 'sharp';

const N = 32;
const K = 8;

function dct1d(v: number[]): number[] {
  const out: number[] = [];
  for (let k = 0; k < v.length; k++) {
    let s = 0;
    for (let n = 0; n < v.length; n++) s += (v[n] ?? 0) * Math.cos((Math.PI / v.length) * (n + 0.5) * k);
    out.push(s);
  }
  return out;
}

/** 64-bit DCT hash of the first frame (flattened on white, greyscale 32x32), as 16 hex chars. */
export async function phash(image: Buffer): Promise<string> {
  const { data } = await sharp(image, { pages: 1 })
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(N, N, { fit: 'fill' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const rows: number[][] = [];
  for (let y = 0; y < N; y++) rows.push(dct1d(Array.from(data.subarray(y * N, y * N + N))));
  const coeffs: number[] = [];
  for (let u = 0; u < K; u++) {
    const col = dct1d(rows.map((r) => r[u] ?? 0));
    for (let v = 0; v < K; v++) coeffs[v * K + u] = col[v] ?? 0;
  }
  const ac = coeffs.slice(1);
  const median = [...ac].sort((a, b) => a - b)[Math.floor(ac.length / 2)] ?? 0;
  let bits = 0n;
  for (const c of coeffs) bits = (bits << 1n) | (c > median ? 1n : 0n);
  return bits.toString(16).padStart(16, '0');
}

export function hamming(a: string, b: string): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let n = 0;
  while (x > 0n) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}

/** Mean absolute difference per channel (0–255) between two images resized to the same size. */
export async function pixelDistance(a: Buffer, b: Buffer, size = 64): Promise<number> {
  const load = (img: Buffer) =>
    sharp(img, { pages: 1 }).flatten({ background: '#ffffff' }).removeAlpha().resize(size, size, { fit: 'fill' }).raw().toBuffer();
  const [x, y] = await Promise.all([load(a), load(b)]);
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs((x[i] ?? 0) - (y[i] ?? 0));
  return sum / x.length;
}

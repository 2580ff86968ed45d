/**
 * Structural dissimilarity between a result and the pixels it was encoded from, for
 * `autoquality:dssim` (imgproxy Pro, https://docs.imgproxy.net/features/autoquality): DSSIM =
 * (1 − SSIM) / 2, the definition imgproxy's docs link to
 * (https://en.wikipedia.org/wiki/Structural_similarity#Structural_Dissimilarity).
 *
 * SSIM (Wang et al. 2004) on luma, over 8×8 windows every 4 pixels: luma because the
 * encoders spend their bits there and the eye judges it, overlapping windows so that a block
 * edge of JPEG or AVIF falls inside some window. Transparent pixels are laid on white first,
 * as a browser on a white page shows them. Pure and allocation-bounded (two luma planes), so
 * it runs in a codec worker on images of any size.
 */

const WINDOW = 8;
const STEP = 4;
/** (K·L)² with K1 = 0.01, K2 = 0.03 and L = 255, the paper's constants. */
const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/** BT.601 luma of 1–4 channel 8-bit pixels, alpha composited on white. */
export function luma(pixels: Uint8Array, width: number, height: number, channels: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const alpha = channels === 2 || channels === 4;
  for (let i = 0, p = 0; i < out.length; i++, p += channels) {
    const r = pixels[p] ?? 0;
    const y = channels >= 3 ? 0.299 * r + 0.587 * (pixels[p + 1] ?? 0) + 0.114 * (pixels[p + 2] ?? 0) : r;
    const a = alpha ? (pixels[p + channels - 1] ?? 255) / 255 : 1;
    out[i] = Math.round(y * a + 255 * (1 - a));
  }
  return out;
}

/** Window origins along one side: every STEP pixels, the last window flush with the edge. */
function origins(side: number, window: number): number[] {
  const out: number[] = [];
  for (let o = 0; o + window < side; o += STEP) out.push(o);
  out.push(side - window);
  return out;
}

/** Mean SSIM of two luma planes of the same size (1 for identical planes). */
export function ssim(a: Uint8Array, b: Uint8Array, width: number, height: number): number {
  if (a.length !== width * height || b.length !== a.length) throw new RangeError('ssim: planes must be width × height');
  const ww = Math.min(WINDOW, width);
  const wh = Math.min(WINDOW, height);
  const n = ww * wh;
  let total = 0;
  let count = 0;
  for (const oy of origins(height, wh)) {
    for (const ox of origins(width, ww)) {
      let sa = 0;
      let sb = 0;
      let saa = 0;
      let sbb = 0;
      let sab = 0;
      for (let y = oy; y < oy + wh; y++) {
        const row = y * width;
        for (let x = ox; x < ox + ww; x++) {
          const va = a[row + x] ?? 0;
          const vb = b[row + x] ?? 0;
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const ma = sa / n;
      const mb = sb / n;
      const va = saa / n - ma * ma;
      const vb = sbb / n - mb * mb;
      const cov = sab / n - ma * mb;
      total += ((2 * ma * mb + C1) * (2 * cov + C2)) / ((ma * ma + mb * mb + C1) * (va + vb + C2));
      count++;
    }
  }
  return total / count;
}

/** DSSIM of two images of the same size and channel layout. */
export function dssim(a: Uint8Array, b: Uint8Array, width: number, height: number, channels: number): number {
  return (1 - ssim(luma(a, width, height, channels), luma(b, width, height, channels), width, height)) / 2;
}

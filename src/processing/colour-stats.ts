/**
 * Colour statistics for /info over RGBA pixels: average colour, a quantised palette and
 * imgproxy's six "dominant colours" (vibrant / muted × light / normal / dark, the Android
 * Palette model that node-vibrant also follows). Inputs are small previews, so plain loops.
 */

export interface Rgba {
  R: number;
  G: number;
  B: number;
  A: number;
}
export type Rgb = Omit<Rgba, 'A'>;

/** Mean colour; with `ignoreTransparent`, fully transparent pixels do not count. */
export function averageColour(rgba: Uint8Array, ignoreTransparent: boolean): Rgba {
  let r = 0, g = 0, b = 0, a = 0, n = 0;
  for (let i = 0; i + 3 < rgba.length; i += 4) {
    const alpha = rgba[i + 3] ?? 0;
    if (ignoreTransparent && alpha === 0) continue;
    r += rgba[i] ?? 0;
    g += rgba[i + 1] ?? 0;
    b += rgba[i + 2] ?? 0;
    a += alpha;
    n++;
  }
  if (n === 0) return { R: 0, G: 0, B: 0, A: 0 };
  return { R: Math.round(r / n), G: Math.round(g / n), B: Math.round(b / n), A: Math.round(a / n) };
}

interface Swatch {
  rgb: Rgb;
  population: number;
  h: number;
  s: number;
  l: number;
}

/** 5-bit-per-channel histogram of opaque-enough pixels → swatches (mean colour of each bin). */
function swatches(rgba: Uint8Array): Swatch[] {
  const bins = new Map<number, { r: number; g: number; b: number; n: number }>();
  for (let i = 0; i + 3 < rgba.length; i += 4) {
    if ((rgba[i + 3] ?? 0) < 125) continue;
    const r = rgba[i] ?? 0, g = rgba[i + 1] ?? 0, b = rgba[i + 2] ?? 0;
    const key = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
    const bin = bins.get(key);
    if (bin) {
      bin.r += r;
      bin.g += g;
      bin.b += b;
      bin.n++;
    } else bins.set(key, { r, g, b, n: 1 });
  }
  return [...bins.values()].map((v) => {
    const rgb = { R: Math.round(v.r / v.n), G: Math.round(v.g / v.n), B: Math.round(v.b / v.n) };
    return { rgb, population: v.n, ...toHsl(rgb) };
  });
}

function toHsl({ R, G, B }: Rgb): { h: number; s: number; l: number } {
  const r = R / 255, g = G / 255, b = B / 255;
  const max = Math.max(r, g, b), min = Math.min(r, g, b);
  const l = (max + min) / 2;
  if (max === min) return { h: 0, s: 0, l };
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  const h = max === r ? ((g - b) / d + (g < b ? 6 : 0)) / 6 : max === g ? ((b - r) / d + 2) / 6 : ((r - g) / d + 4) / 6;
  return { h, s, l };
}

function fromHsl(h: number, s: number, l: number): Rgb {
  if (s === 0) {
    const v = Math.round(l * 255);
    return { R: v, G: v, B: v };
  }
  const hue = (p: number, q: number, t: number): number => {
    const u = t < 0 ? t + 1 : t > 1 ? t - 1 : t;
    if (u < 1 / 6) return p + (q - p) * 6 * u;
    if (u < 1 / 2) return q;
    if (u < 2 / 3) return p + (q - p) * (2 / 3 - u) * 6;
    return p;
  };
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  return { R: Math.round(hue(p, q, h + 1 / 3) * 255), G: Math.round(hue(p, q, h) * 255), B: Math.round(hue(p, q, h - 1 / 3) * 255) };
}

interface Target {
  key: DominantKey;
  luma: [number, number, number];
  sat: [number, number, number];
}
export type DominantKey = 'vibrant' | 'light_vibrant' | 'dark_vibrant' | 'muted' | 'light_muted' | 'dark_muted';

/** [min, target, max] luminance and saturation per category (Android Palette defaults). */
const TARGETS: Target[] = [
  { key: 'vibrant', luma: [0.3, 0.5, 0.7], sat: [0.35, 1, 1] },
  { key: 'light_vibrant', luma: [0.55, 0.74, 1], sat: [0.35, 1, 1] },
  { key: 'dark_vibrant', luma: [0, 0.26, 0.45], sat: [0.35, 1, 1] },
  { key: 'muted', luma: [0.3, 0.5, 0.7], sat: [0, 0.3, 0.4] },
  { key: 'light_muted', luma: [0.55, 0.74, 1], sat: [0, 0.3, 0.4] },
  { key: 'dark_muted', luma: [0, 0.26, 0.45], sat: [0, 0.3, 0.4] },
];

/** The six dominant colours; with `buildMissed`, absent ones derived from found ones. */
export function dominantColours(rgba: Uint8Array, buildMissed: boolean): Partial<Record<DominantKey, Rgb>> {
  const all = swatches(rgba);
  const maxPop = Math.max(1, ...all.map((s) => s.population));
  const used = new Set<Swatch>();
  const found: Partial<Record<DominantKey, Swatch>> = {};
  for (const t of TARGETS) {
    let best: Swatch | undefined;
    let bestScore = -Infinity;
    for (const s of all) {
      if (used.has(s) || s.l < t.luma[0] || s.l > t.luma[2] || s.s < t.sat[0] || s.s > t.sat[2]) continue;
      const score = (1 - Math.abs(s.s - t.sat[1])) * 3 + (1 - Math.abs(s.l - t.luma[1])) * 6.5 + (s.population / maxPop) * 0.5;
      if (score > bestScore) {
        bestScore = score;
        best = s;
      }
    }
    if (best) {
      used.add(best);
      found[t.key] = best;
    }
  }
  const out: Partial<Record<DominantKey, Rgb>> = {};
  for (const t of TARGETS) {
    const s = found[t.key];
    if (s) out[t.key] = s.rgb;
  }
  if (buildMissed) {
    // Same derivations as node-vibrant: borrow the hue and saturation of a sibling, set the
    // category's target luminance.
    const derive = (from: DominantKey | undefined, luma: number): Rgb | undefined => {
      const s = from ? found[from] : undefined;
      return s ? fromHsl(s.h, s.s, luma) : undefined;
    };
    out.vibrant ??= derive(found.dark_vibrant ? 'dark_vibrant' : found.light_vibrant ? 'light_vibrant' : undefined, 0.5);
    out.dark_vibrant ??= derive(found.vibrant ? 'vibrant' : undefined, 0.26);
    out.light_vibrant ??= derive(found.vibrant ? 'vibrant' : undefined, 0.74);
    out.muted ??= derive(found.dark_muted ? 'dark_muted' : found.light_muted ? 'light_muted' : undefined, 0.5);
    out.dark_muted ??= derive(found.muted ? 'muted' : undefined, 0.26);
    out.light_muted ??= derive(found.muted ? 'muted' : undefined, 0.74);
    for (const k of Object.keys(out) as DominantKey[]) if (out[k] === undefined) delete out[k];
  }
  return out;
}

/**
 * Palette from a quantised PNG: sharp (libimagequant) picks the colours, we read them back
 * from the PLTE and tRNS chunks.
 */
export function paletteFromPng(png: Buffer): Rgba[] {
  let plte: Buffer | undefined;
  let trns: Buffer | undefined;
  let p = 8;
  while (p + 12 <= png.length) {
    const len = png.readUInt32BE(p);
    const type = png.toString('latin1', p + 4, p + 8);
    if (p + 12 + len > png.length) break;
    if (type === 'PLTE') plte = png.subarray(p + 8, p + 8 + len);
    if (type === 'tRNS') trns = png.subarray(p + 8, p + 8 + len);
    if (type === 'IDAT') break;
    p += 12 + len;
  }
  const out: Rgba[] = [];
  if (!plte) return out;
  for (let i = 0; i + 2 < plte.length; i += 3) {
    out.push({ R: plte[i] ?? 0, G: plte[i + 1] ?? 0, B: plte[i + 2] ?? 0, A: trns?.[i / 3] ?? 255 });
  }
  return out;
}

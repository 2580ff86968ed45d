/**
 * Source images of the benchmark, generated once with sharp into bench/.cache/src/ (kept
 * between runs; delete the folder to regenerate). Photo-like content: smooth waves plus
 * deterministic noise, so JPEG sizes and decode costs resemble camera pictures rather than
 * flat test cards that compress to nothing.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

export interface SourceSpec {
  name: string;
  width: number;
  height: number;
  format: 'jpeg' | 'png';
  alpha: boolean;
  label: string;
}

export const SOURCES = {
  big: { name: 'big.jpg', width: 4000, height: 3000, format: 'jpeg', alpha: false, label: '12 MP JPEG' },
  alpha: { name: 'alpha.png', width: 1600, height: 1250, format: 'png', alpha: true, label: '2 MP PNG with alpha' },
  photo: { name: 'photo.jpg', width: 1224, height: 816, format: 'jpeg', alpha: false, label: '1 MP JPEG' },
  huge: { name: 'huge.jpg', width: 8192, height: 6144, format: 'jpeg', alpha: false, label: '50 MP JPEG' },
} as const satisfies Record<string, SourceSpec>;

export type SourceId = keyof typeof SOURCES;

/**
 * Raw photo-like pixels: waves along x and y, a ramp and xorshift noise (lighter for the PNG,
 * which stands for graphics with transparency, not photos).
 */
function pixels(width: number, height: number, channels: 3 | 4, seed: number, noiseBits: number): Buffer {
  const raw = Buffer.allocUnsafe(width * height * channels);
  const sx = new Float32Array(width);
  const sy = new Float32Array(height);
  for (let x = 0; x < width; x++) sx[x] = 60 * Math.sin((x / width) * 9.1 + seed) + 25 * Math.sin((x / width) * 47.3);
  for (let y = 0; y < height; y++) sy[y] = 55 * Math.sin((y / height) * 7.7 + seed * 2) + 20 * Math.cos((y / height) * 39.9);
  const mask = (1 << noiseBits) - 1;
  const half = mask >> 1;
  let s = 0x9e3779b9 ^ seed;
  let i = 0;
  for (let y = 0; y < height; y++) {
    const vy = sy[y] ?? 0;
    for (let x = 0; x < width; x++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      const noise = (s & mask) - half;
      const base = 128 + (sx[x] ?? 0) + vy;
      raw[i] = clamp(base + noise + (x * 40) / width);
      raw[i + 1] = clamp(base * 0.8 + noise + 30);
      raw[i + 2] = clamp(255 - base + noise);
      if (channels === 4) raw[i + 3] = clamp(255 * Math.min(1, (2 * Math.abs(x - width / 2)) / width + (y / height) * 0.3));
      i += channels;
    }
  }
  return raw;
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v | 0;
}

/** Generates the missing sources among `ids` into `dir`; returns the directory. */
export async function ensureSources(dir: string, ids: readonly SourceId[], log: (msg: string) => void): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (const id of ids) {
    const spec: SourceSpec = SOURCES[id];
    const file = join(dir, spec.name);
    if (existsSync(file)) continue;
    const started = Date.now();
    const channels = spec.alpha ? 4 : 3;
    const img = sharp(pixels(spec.width, spec.height, channels, spec.width % 97, spec.format === 'png' ? 2 : 5), { raw: { width: spec.width, height: spec.height, channels } });
    await (spec.format === 'png' ? img.png() : img.jpeg({ quality: 90 })).toFile(file);
    log(`generated ${spec.name} (${spec.width}×${spec.height}) in ${Date.now() - started} ms`);
  }
  return dir;
}

/**
 * Deterministic test images made with sharp (no binary fixtures needed for the basics).
 */
import sharp from 'sharp';

/** A photo-like JPEG: smooth gradients plus a few shapes, so resizes and crops are visible. */
export async function makePhoto(width = 1200, height = 800, format: 'jpeg' | 'png' | 'webp' = 'jpeg'): Promise<Buffer> {
  const channels = 3;
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      raw[i] = Math.round((255 * x) / width);
      raw[i + 1] = Math.round((255 * y) / height);
      raw[i + 2] = (x >> 5) % 2 === (y >> 5) % 2 ? 200 : 40;
    }
  }
  const img = sharp(raw, { raw: { width, height, channels } });
  if (format === 'png') return img.png().toBuffer();
  if (format === 'webp') return img.webp({ quality: 90 }).toBuffer();
  return img.jpeg({ quality: 90 }).toBuffer();
}

/** A PNG with a transparent border and an opaque centre. */
export async function makeAlphaPng(width = 400, height = 300): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: { create: { width: Math.floor(width / 2), height: Math.floor(height / 2), channels: 4, background: { r: 255, g: 0, b: 0, alpha: 1 } } }, gravity: 'centre' }])
    .png()
    .toBuffer();
}

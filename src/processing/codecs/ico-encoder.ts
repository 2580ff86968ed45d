/**
 * ICO output: one PNG entry in an ICO directory (processing/decoders.ts `encodeIco`), as
 * imgproxy writes it (vips/icosave.c, https://github.com/imgproxy/imgproxy). The PNG is written
 * by sharp (libvips, off the main thread); the directory is 22 bytes. ICO holds at most
 * 256 × 256, which the pipeline's size fix (step-sizes.ts `fixSize`) already ensured.
 */
import sharp from 'sharp';
import { encodeIco } from './ico-write.js';
import { underBudget } from '../run.js';
import { vips } from '../sharp-setup.js';
import type { Encoder, EncodeInput, EncodeSettings } from './types.js';

export const icoEncoder: Encoder = {
  async encode(pixels: EncodeInput, settings: EncodeSettings): Promise<Buffer> {
    const { width, height, channels } = pixels;
    const png = await vips(underBudget(sharp(pixels.data, { raw: { width, height, channels } }), settings).png().toBuffer(), 'ICO encoder');
    return encodeIco(png, width, height);
  },
};

/**
 * BMP output: pixproxy's own writer (bmp-write.ts `encodeBmp`: 24-bit BI_RGB, or 32-bit
 * BITMAPV4 with an alpha mask), run in a codec worker (worker-pool.ts) because it touches every
 * pixel in JavaScript. libvips as shipped with sharp writes no BMP (imgproxy adds its own saver,
 * vips/bmpsave.c, https://github.com/imgproxy/imgproxy).
 */
import type { Encoder, EncodeInput, EncodeSettings } from './types.js';
import { copyToTransfer, runJob } from './worker-pool.js';

export const bmpEncoder: Encoder = {
  async encode(pixels: EncodeInput, settings: EncodeSettings): Promise<Buffer> {
    const data = copyToTransfer(pixels.data);
    const bytes = await runJob({ kind: 'bmp-encode', pixels: data, width: pixels.width, height: pixels.height, channels: pixels.channels }, [data], settings);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  },
};

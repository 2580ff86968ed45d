/**
 * BMP output: pixproxy's own writer (processing/decoders.ts `encodeBmp`: 24-bit BI_RGB, or
 * 32-bit BITMAPV4 with an alpha mask), run in a codec thread because it touches every pixel in
 * JavaScript. libvips as shipped with sharp writes no BMP (imgproxy adds its own saver,
 * vips/bmpsave.c, https://github.com/imgproxy/imgproxy).
 */
import type { Encoder, EncodeInput, EncodeSettings } from './types.js';
import { copyToTransfer, runCodecJob } from './thread.js';

export const bmpEncoder: Encoder = {
  async encode(pixels: EncodeInput, settings: EncodeSettings): Promise<Buffer> {
    const data = copyToTransfer(pixels.data);
    const reply = await runCodecJob({ kind: 'bmp-encode', pixels: data, width: pixels.width, height: pixels.height, channels: pixels.channels }, [data], settings, 'BMP encoder');
    if (!('bytes' in reply)) throw new TypeError('bmpEncoder: no bytes in the reply');
    return Buffer.from(reply.bytes);
  },
};

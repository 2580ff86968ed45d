/**
 * HEIC output (HEVC in HEIF): libheif's `heif-enc` from the Debian package libheif-examples,
 * which encodes with x265, as a child process over temporary files (tool.ts). sharp's
 * prebuilt libheif has no HEVC encoder (patents keep it out); AV1 in HEIF, i.e. AVIF, is
 * sharp's own. imgproxy saves HEIC at 8 bits per sample with the requested quality
 * (vips/vips.c `vips_heifsave_go`, https://github.com/imgproxy/imgproxy); so does this.
 *
 * Found at startup (`heif-enc --list-encoders` must list x265); without it HEIC is never
 * negotiated and an explicit `heic` is a 422 saying why.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { underBudget } from '../run.js';
import { vips } from '../sharp-setup.js';
import type { Encoder, EncodeInput, EncodeSettings } from './types.js';
import { probeTool, runTool, withTempDir, type ToolProbe } from './tool.js';

const HEIF_ENC = 'heif-enc';

let probed: ToolProbe | null = null;

/** Whether heif-enc with x265 is installed; asked once per process. */
export function heicEncoderProbe(): ToolProbe {
  probed ??= probeTool(HEIF_ENC, ['--list-encoders'], (out) => (/\bx265\b/.test(out) ? null : 'heif-enc has no HEVC (x265) encoder'), 'libheif-examples');
  return probed;
}

export const heicEncoder: Encoder = {
  async encode(pixels: EncodeInput, settings: EncodeSettings): Promise<Buffer> {
    const { width, height, channels } = pixels;
    // The fastest PNG libvips writes: heif-enc reads it once, right away.
    const png = await vips(underBudget(sharp(pixels.data, { raw: { width, height, channels } }), settings).png({ compressionLevel: 0 }).toBuffer(), 'HEIC encoder');
    return withTempDir(async (dir) => {
      const input = join(dir, 'in.png');
      const output = join(dir, 'out.heic');
      await writeFile(input, png);
      const args = ['-q', String(Math.round(settings.quality)), ...(settings.lossless ? ['-L', '-p', 'chroma=444'] : []), '-o', output, input];
      await runTool(HEIF_ENC, args, settings, 'HEIC encoder');
      return readFile(output);
    });
  },
};

/**
 * Writes the pipeline's final pixels in one output format: libvips' own savers through sharp,
 * or, for the formats libvips as shipped with sharp does not write (JPEG XL, BMP, ICO, HEIC),
 * the codec of the encoder table (format.ts), fed with 8-bit raw pixels of the channel layout
 * it takes. Either way the work is off the main thread (libuv's pool, a codec worker or a
 * child process) and stops at the request's deadline or abort.
 */
import type { Sharp } from 'sharp';
import type { Config } from '../config/index.js';
import type { ProcessingOptions } from '../options.js';
import { applyEncoder, encoderFor, type EncodeSettings } from './format.js';
import type { Run } from './run.js';
import { underBudget } from './run.js';
import { vips } from './sharp-setup.js';

/** The effort setting of a codec format, from its variable. */
function effortOf(settings: EncodeSettings, config: Config): number | undefined {
  return settings.format === 'jxl' ? config.processing.jxlEffort : undefined;
}

/**
 * Channels a codec takes: JPEG XL and ICO (PNG entries written as 32-bit) always RGBA, BMP
 * and HEIC RGB or RGBA as the pixels are.
 */
function codecChannels(settings: EncodeSettings): 3 | 4 {
  if (settings.format === 'jxl' || settings.format === 'ico') return 4;
  return settings.alpha ? 4 : 3;
}

/** `p` written as `settings.format`; `p` carries everything but the encoder (metadata, colourspace). */
export async function writeImage(p: Sharp, settings: EncodeSettings, o: ProcessingOptions, config: Config, run: Run): Promise<Buffer> {
  const row = encoderFor(settings.format);
  const encoder = row.encoder;
  if (encoder === undefined) return vips(underBudget(applyEncoder(p, settings, o, config), run).toBuffer(), 'encode');
  const channels = codecChannels(settings);
  let raw = p.toColourspace('srgb');
  raw = channels === 4 ? raw.ensureAlpha() : raw.removeAlpha();
  const { data, info } = await vips(underBudget(raw.raw({ depth: 'uchar' }), run).toBuffer({ resolveWithObject: true }), 'encode');
  return encoder.encode(
    { data, width: info.width, height: info.height, channels },
    { quality: settings.quality, effort: effortOf(settings, config), lossless: settings.lossless, deadline: run.deadline, signal: run.signal },
  );
}

/**
 * How far an encoded result is from the pixels it was written from (autoquality `dssim`): the
 * result decoded back to 8-bit RGBA by the source reader and compared in a codec worker
 * (ssim.ts, worker-pool.ts), so neither the decode nor the per-pixel loop runs on the main
 * thread.
 */
import type { Sharp } from 'sharp';
import { ProxyError } from '../errors.js';
import type { OutputFormat } from '../formats.js';
import { openImage } from './codecs/source.js';
import { copyToTransfer, runJob } from './codecs/worker-pool.js';
import { underBudget, type Run } from './run.js';
import { vips } from './sharp-setup.js';

export interface Rgba {
  readonly data: Buffer;
  readonly width: number;
  readonly height: number;
}

/** 8-bit RGBA of a sharp pipeline. */
export async function toRgba(p: Sharp, run: Run): Promise<Rgba> {
  const { data, info } = await vips(underBudget(p.toColourspace('srgb').ensureAlpha(), run).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }), 'compare');
  return { data, width: info.width, height: info.height };
}

/**
 * An encoded result decoded to RGBA by the reader every source goes through
 * (codecs/source.ts): JPEG XL, HEIC, BMP and ICO by their codecs, the rest by libvips. The
 * result was made here within the result bounds, so its own size is the pixel bound.
 */
export async function decodeRgba(data: Buffer, run: Run): Promise<Rgba> {
  return toRgba(await openImage(data, { maxPixels: Number.MAX_SAFE_INTEGER, maxFrames: 1, deadline: run.deadline, signal: run.signal }), run);
}

/** DSSIM of `encoded` against `reference`. */
export async function dssimOf(reference: Rgba, encoded: Buffer, format: OutputFormat, run: Run): Promise<number> {
  const decoded = await decodeRgba(encoded, run);
  if (decoded.width !== reference.width || decoded.height !== reference.height) {
    throw new ProxyError('UNSUPPORTED_IMAGE', `compare: the ${format} result is ${decoded.width}x${decoded.height}, its pixels ${reference.width}x${reference.height}`);
  }
  const a = copyToTransfer(reference.data);
  const b = copyToTransfer(decoded.data);
  return runJob({ kind: 'dssim', a, b, width: reference.width, height: reference.height, channels: 4 }, [a, b], run);
}

/**
 * How far an encoded result is from the pixels it was written from (autoquality `dssim`): the
 * result decoded back to 8-bit RGBA (sharp for what libvips reads, the JPEG XL codec thread,
 * libheif's heif-convert for HEIC) and compared in a codec thread (ssim.ts), so neither the
 * decode nor the per-pixel loop runs on the main thread.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { ProxyError } from '../errors.js';
import type { OutputFormat } from '../options.js';
import { JXL_DECODE_MODULE, jxlWasm } from './codecs/jxl-encoder.js';
import { copyToTransfer, runCodecJob } from './codecs/thread.js';
import { runTool, withTempDir } from './codecs/tool.js';
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

const viaSharp = (input: Buffer, run: Run): Promise<Rgba> => toRgba(sharp(input, { failOn: 'error' }), run);

/** `data` (written as `format`) decoded to RGBA. */
export async function decodeRgba(data: Buffer, format: OutputFormat, run: Run): Promise<Rgba> {
  if (format === 'jxl') {
    const input = copyToTransfer(data);
    const reply = await runCodecJob({ kind: 'jxl-decode', module: JXL_DECODE_MODULE, wasm: await jxlWasm('dec'), data: input }, [input], run, 'JPEG XL decoder');
    if (!('bytes' in reply) || reply.width === undefined || reply.height === undefined) throw new TypeError('decodeRgba: no pixels in the reply');
    return { data: Buffer.from(reply.bytes), width: reply.width, height: reply.height };
  }
  if (format === 'heic') {
    return withTempDir(async (dir) => {
      const input = join(dir, 'in.heic');
      const output = join(dir, 'out.png');
      await writeFile(input, data);
      await runTool('heif-convert', [input, output], run, 'HEIC decoder');
      return viaSharp(await readFile(output), run);
    });
  }
  return viaSharp(data, run);
}


/** DSSIM of `encoded` against `reference`. */
export async function dssimOf(reference: Rgba, encoded: Buffer, format: OutputFormat, run: Run): Promise<number> {
  const decoded = await decodeRgba(encoded, format, run);
  if (decoded.width !== reference.width || decoded.height !== reference.height) {
    throw new ProxyError('UNSUPPORTED_IMAGE', `compare: the ${format} result is ${decoded.width}x${decoded.height}, its pixels ${reference.width}x${reference.height}`);
  }
  const a = copyToTransfer(reference.data);
  const b = copyToTransfer(decoded.data);
  const reply = await runCodecJob({ kind: 'dssim', a, b, width: reference.width, height: reference.height, channels: 4 }, [a, b], run, 'DSSIM');
  if (!('value' in reply)) throw new TypeError('dssimOf: no value in the reply');
  return reply.value;
}

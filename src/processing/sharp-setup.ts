/**
 * One-time sharp configuration for the pipeline, and the mapping of libvips failures to
 * client errors.
 *
 * - sharp.cache(false): every request has distinct input; libvips' operation cache would only
 *   hold memory. sharp.concurrency() is left as sharp sets it (1 on glibc without jemalloc):
 *   throughput comes from running several pipelines at once, not threads per image.
 * - A loader allow-list, as Next.js does (packages/next/src/server/image-optimizer.ts,
 *   https://github.com/vercel/next.js): every libvips loader is
 *   blocked, then only the formats we accept are unblocked. That keeps e.g. the matrix, FITS,
 *   PPM and vips-native loaders (and their parsers) out of reach of untrusted bytes. Blocking
 *   a base class blocks its Buffer/File/Source subclasses; unblocking does the same.
 */
import sharp from 'sharp';
import { ProxyError } from '../errors.js';

const ALLOWED_LOADERS = [
  'VipsForeignLoadJpeg',
  'VipsForeignLoadPng',
  'VipsForeignLoadWebp',
  'VipsForeignLoadNsgif',
  'VipsForeignLoadTiff',
  'VipsForeignLoadHeif',
  'VipsForeignLoadSvg',
] as const;

let initialised = false;

/**
 * Idempotent, and called explicitly by whoever builds a processor (createProcessor) or the app
 * (createApp): importing a module never reconfigures sharp for its importer.
 */
export function initSharp(): void {
  if (initialised) return;
  initialised = true;
  sharp.cache(false);
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: [...ALLOWED_LOADERS] });
}

/**
 * Awaits a sharp promise; a libvips failure (truncated, corrupt or unsupported input) becomes
 * UNSUPPORTED_IMAGE (422) instead of a plain Error that the HTTP layer would turn into a 500,
 * and a pass that libvips stopped at its `timeout` (run.ts) becomes TIMEOUT (503).
 */
export async function vips<T>(p: Promise<T>, what = 'image'): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ProxyError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    // sharp's eval callback reports "timeout: N% complete"
    // (https://github.com/lovell/sharp/blob/main/src/common.cc).
    if (/\btimeout: \d+% complete/.test(msg)) throw new ProxyError('TIMEOUT', `${what}: stopped at the request deadline (${msg})`, { cause: err });
    throw new ProxyError('UNSUPPORTED_IMAGE', `${what}: ${msg}`, { cause: err });
  }
}

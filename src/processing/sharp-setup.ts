/**
 * One-time sharp configuration for the pipeline, and the mapping of libvips failures to
 * client errors.
 *
 * - sharp.cache(false): every request has distinct input; libvips' operation cache would only
 *   hold memory. sharp.concurrency() is left as sharp sets it (1 on glibc without jemalloc):
 *   throughput comes from running several pipelines at once, not threads per image.
 * - A loader allow-list, as Next.js does (reference peers.md §B.5): every libvips loader is
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

export function initSharp(): void {
  if (initialised) return;
  initialised = true;
  sharp.cache(false);
  sharp.block({ operation: ['VipsForeignLoad'] });
  sharp.unblock({ operation: [...ALLOWED_LOADERS] });
}

/**
 * Awaits a sharp promise; a libvips failure (truncated, corrupt or unsupported input) becomes
 * UNSUPPORTED_IMAGE (422) instead of a plain Error that the HTTP layer would turn into a 500.
 */
export async function vips<T>(p: Promise<T>, what = 'image'): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ProxyError) throw err;
    const msg = err instanceof Error ? err.message : String(err);
    throw new ProxyError('UNSUPPORTED_IMAGE', `${what}: ${msg}`, { cause: err });
  }
}

/**
 * SHA-256 of a body, computed once per Buffer. A miss hashes its source twice otherwise: the
 * origin sub-store's entry records the digest of the bytes it writes (storage/fs-format.ts), and
 * the result records the source's digest as its source tag when the origin sent no validator
 * (cache/swr.ts), the same hash of the same Buffer. For a 12 MP JPEG that is ~2 ms of the event
 * loop each time.
 *
 * Large bodies are hashed in slices with a yield to the event loop between two, so a multi-MB
 * source never holds the loop for milliseconds; the digest (in flight or done) is remembered by
 * Buffer identity, weakly. A Buffer handed to the cache is never written to afterwards (sources
 * and results are immutable once fetched or encoded); a view (`subarray`) is a Buffer of its own.
 */
import { createHash } from 'node:crypto';

/**
 * Bodies larger than this are hashed in slices of this size (~0.15 ms of sha256 each on the bench
 * machine; 3.5 MB in one call: ~2 ms). WebCrypto's digest would run in the thread pool, but on
 * Node 20 it first copies its input on the calling thread, and for 3.5 MB that copy alone (page
 * faults on a fresh allocation) took as long as the hash.
 */
export const DIGEST_SLICE = 256 * 1024;

const known = new WeakMap<Buffer, Promise<Buffer>>();

export function bodyDigest(body: Buffer): Buffer {
  return createHash('sha256').update(body).digest();
}

async function sliced(body: Buffer): Promise<Buffer> {
  const h = createHash('sha256');
  for (let off = 0; off < body.length; off += DIGEST_SLICE) {
    if (off > 0) await new Promise<void>((r) => setImmediate(r));
    h.update(body.subarray(off, off + DIGEST_SLICE));
  }
  return h.digest();
}

/** bodyDigest() of `body`, in slices when it is large, once per Buffer. */
export function bodyDigestSliced(body: Buffer): Promise<Buffer> {
  if (body.length <= DIGEST_SLICE) return Promise.resolve(bodyDigest(body));
  let digest = known.get(body);
  if (digest === undefined) {
    digest = sliced(body);
    known.set(body, digest);
  }
  return digest;
}

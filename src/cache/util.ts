/**
 * Small helpers shared by the cache modules: draining a body stream, bounding a backend call
 * in time (a slow remote L2 must degrade to "no cache", never stall a request).
 */
import type { Readable } from 'node:stream';

export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

class CacheTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'CacheTimeoutError';
  }
}

/**
 * Rejects after `ms`; the underlying call is left to finish on its own (its result is dropped).
 * One promise and one timer per call (no race/finally chain): it wraps every L2 read, which on
 * an fs hit is most of the request.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new CacheTimeoutError(what, ms)), ms);
    timer.unref();
    // A late rejection of `p` after the timeout won is consumed here, never unhandled.
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err as Error);
      },
    );
  });
}

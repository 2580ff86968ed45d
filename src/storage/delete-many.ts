/**
 * Deleting many keys of one store, for purges: the backend's batch call when it has one
 * (BlobStore.deleteMany: S3 DeleteObjects, Swift bulk delete), else one delete() per key with
 * a bounded number in flight, so 10,000 variants of one source take a few round trips' time
 * per 16 keys instead of 10,000 in a row, without opening 10,000 connections at once.
 */
import type { BlobStore } from './types.js';

/** Deletes in flight at once when the backend has no batch call. */
export const DELETE_CONCURRENCY = 16;

/** Runs `fn` over `items` with at most `concurrency` calls in flight; rejects with the first failure once the others settled. */
export async function forEachLimited<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (failure !== undefined) throw failure.err;
}

/** Deletes `keys` from `store` (missing keys are no error). */
export async function deleteKeys(store: BlobStore, keys: readonly string[]): Promise<void> {
  if (keys.length === 0) return;
  if (store.deleteMany) return store.deleteMany(keys);
  await forEachLimited(keys, DELETE_CONCURRENCY, (key) => store.delete(key));
}

/**
 * A backend's deleteMany over its batch call: `size` keys per call; `batch` resolves false
 * when the backend turns out to have no such call (an S3-compatible store without
 * DeleteObjects, an Azure emulator without blob batch), after which every key is deleted one
 * by one, DELETE_CONCURRENCY at a time, for the life of the store.
 */
export function batchedDeleter(size: number, deleteOne: (key: string) => Promise<void>, batch: (chunk: readonly string[]) => Promise<boolean>): (keys: readonly string[]) => Promise<void> {
  let batches = true;
  return async (keys) => {
    const chunks: (readonly string[])[] = [];
    for (let i = 0; i < keys.length; i += size) chunks.push(keys.slice(i, i + size));
    // A few batches at once: some stores (Swift's s3api) delete a batch's keys one after another.
    await forEachLimited(chunks, BATCHES_IN_FLIGHT, async (chunk) => {
      if (batches && (await batch(chunk))) return;
      batches = false;
      await forEachLimited(chunk, DELETE_CONCURRENCY, deleteOne);
    });
  };
}

/** Batch calls in flight at once. */
const BATCHES_IN_FLIGHT = 4;

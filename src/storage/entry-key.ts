/**
 * Which key an entry belongs to. Every backend records, with each entry it writes, the key it
 * was put under (fs: the file header; object stores: user metadata), and a keyed store (the
 * cache's, see `OpenOptions.keyed`) answers an entry only under that very key. A name alone
 * proves nothing: a valid entry that ends up under another key's name (a bug, a restore, a
 * copy between machines or buckets) would otherwise be served as that key, a foreign picture
 * with a correct checksum.
 */
import type { BlobMeta } from './types.js';

/**
 * The entry read under `key` records another key, or none (an object pixproxy did not write,
 * or one from before keys were recorded). Not a backend failure: callers count it as a cache
 * error and carry on with a miss.
 */
export class ForeignEntryError extends Error {
  readonly key: string;
  readonly recorded: string | undefined;
  constructor(store: string, key: string, recorded: string | undefined) {
    super(`${store}: the entry under ${JSON.stringify(key)} ${recorded === undefined ? 'records no key' : `belongs to ${JSON.stringify(recorded)}`}; not served`);
    this.name = 'ForeignEntryError';
    this.key = key;
    this.recorded = recorded;
  }
}

/** Throws ForeignEntryError unless `meta` records `key`. */
export function assertOwnEntry(store: string, key: string, meta: BlobMeta): void {
  if (meta.key !== key) throw new ForeignEntryError(store, key, meta.key);
}

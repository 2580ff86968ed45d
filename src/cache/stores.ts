/**
 * Builds the L2 stores from IMGPROXY_CACHE_USE: the transformed store at
 * `<root>/[bucket]/[prefix]/`, the origin sub-store at `<…>/origin/` (PreviewProxy's layout:
 * "Transformed <PP_CACHE_DIR>/ · Origin <PP_CACHE_DIR>/origin/",
 * https://github.com/ViGrise/previewproxy) and the purge log at `<…>/purges/`, plus, for fs,
 * the disk budget that bounds results and sources together. Unset → fs; `none` or empty → no
 * L2 (imgproxy: "When blank, the cache is disabled").
 */
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { createFsBackend } from '../storage/fs.js';
import { createCacheBackend } from '../storage/index.js';
import { withResilience } from '../storage/resilient.js';
import type { BlobStore } from '../storage/types.js';
import { createDiskBudget, type DiskBudget } from './budget.js';
import { createErrorReporter } from './report.js';

export interface CacheStores {
  l2: BlobStore | null;
  origin: BlobStore | null;
  /** The purge log (cache/purge-log.ts). */
  purges: BlobStore | null;
  /** The same stores without the time box and circuit breaker, for purges (admin calls answer their failures). */
  direct: { l2: BlobStore | null; origin: BlobStore | null };
  /** fs only: size bookkeeping, LRU eviction and the periodic sweep. */
  budget: DiskBudget | null;
  close(): Promise<void>;
}

const MB = 1024 * 1024;

/** `[bucket]/[prefix]` for the transformed store; the origin sub-store sits in its `origin/`, the purge log in `purges/`. */
function subPrefix(prefix: string, name: 'origin' | 'purges'): string {
  const p = prefix.replace(/\/+$/, '');
  return p === '' ? name : `${p}/${name}`;
}

export async function createCacheStores(config: Config, logger: Logger, metrics?: Metrics): Promise<CacheStores> {
  const c = config.cache;
  const log = logger.child({ module: 'cache' });
  switch (c.use) {
    case 'none':
      return { l2: null, origin: null, purges: null, direct: { l2: null, origin: null }, budget: null, close: async () => undefined };
    case 'fs': {
      const backend = createFsBackend(c.dir, {
        syncReadMaxBytes: c.fsSyncReadMaxKb * 1024,
        ...(c.fsVerifyEveryRead ? { verifiedEntries: 0 } : {}),
      });
      metrics?.readBuffers(() => backend.readBuffers());
      const l2 = backend.open(c.bucket, c.pathPrefix);
      const origin = backend.open(c.bucket, subPrefix(c.pathPrefix, 'origin'));
      const purges = backend.open(c.bucket, subPrefix(c.pathPrefix, 'purges'));
      const report = createErrorReporter(c.reportErrors, log, metrics);
      const budget = createDiskBudget({
        maxBytes: c.diskMaxMb === undefined ? undefined : c.diskMaxMb * MB,
        cleanupIntervalMs: c.cleanupIntervalSecs * 1000,
        logger: log,
        ...(metrics ? { metrics } : {}),
        onError: (op, err) => report('disk', op, err),
      });
      budget.attach('l2', l2);
      budget.attach('origin', origin);
      budget.start();
      return {
        l2,
        origin,
        purges,
        direct: { l2, origin },
        budget,
        // The stores flush the recency their reads noted (fs-recency.ts).
        close: async () => {
          await budget.close();
          await l2.close();
          await origin.close();
          await purges.close();
        },
      };
    }
    case 's3':
    case 'gcs':
    case 'abs':
    case 'swift': {
      // Object stores: expiry travels in each object's metadata (expired objects are
      // misses) and bucket lifecycle rules bound growth; no local budget. Every call is
      // time-boxed and a dead backend trips a circuit breaker, so it adds no latency.
      const cb = await createCacheBackend(config, logger);
      if (cb === null) throw new Error(`IMGPROXY_CACHE_USE=${c.use}: no backend configured`);
      const report = createErrorReporter(c.reportErrors, log, metrics);
      const guard = (store: BlobStore, layer: 'l2' | 'origin' | 'purge-log') =>
        withResilience(store, { timeoutMs: c.backendTimeoutMs, onError: (op, err) => report(layer, op, err) });
      // Keyed: an object found under a key it was not written for is never served (entry-key.ts).
      const l2 = cb.backend.open(cb.bucket, cb.prefix, { keyed: true });
      const origin = cb.backend.open(cb.bucket, subPrefix(cb.prefix, 'origin'), { keyed: true });
      return {
        l2: guard(l2, 'l2'),
        origin: guard(origin, 'origin'),
        purges: guard(cb.backend.open(cb.bucket, subPrefix(cb.prefix, 'purges'), { keyed: true }), 'purge-log'),
        direct: { l2, origin },
        budget: null,
        close: async () => {
          await cb.backend.close?.();
        },
      };
    }
    default:
      throw new Error(`IMGPROXY_CACHE_USE=${String(c.use)}: unknown adapter`);
  }
}

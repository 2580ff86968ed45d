/**
 * Cache error reporting. Cache errors never fail a request: the caller carries on without
 * the cache. imgproxy's IMGPROXY_CACHE_REPORT_ERRORS ("When true, imgproxy will report cache
 * errors instead of silently falling back to processing without cache",
 * https://docs.imgproxy.net/cache/internal): true →
 * an error-level log with the detail, false → only the `cacheErrors` metric (and a debug line).
 * PreviewProxy dropped them (`let _ = self.l2.set(…)` in
 * https://github.com/ViGrise/previewproxy/blob/main/src/modules/cache/manager.rs), so
 * an unwritable directory silently turned L2 off.
 *
 * One failure is counted once: an object store's call fails inside its resilience wrapper
 * (storage/resilient.ts, which reports it as it counts it for the breaker), and the same error
 * then reaches the layer that called it (cache/layers.ts, origin.ts), which reports what it
 * catches. Every reporter shares one set of the errors already reported.
 */
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { ForeignEntryError } from '../storage/entry-key.js';

/** Errors already counted, by any reporter (weak: they go with the error). */
const reported = new WeakSet<object>();

export type ErrorReporter = (layer: string, op: string, err: unknown) => void;

/** A foreign entry (one recorded under another key, see storage/entry-key.ts) is counted as op `foreign`, whatever the read. */
export function createErrorReporter(reportErrors: boolean, logger: Logger, metrics: Metrics | undefined): ErrorReporter {
  return (layer, readOp, err) => {
    if (typeof err === 'object' && err !== null) {
      if (reported.has(err)) return;
      reported.add(err);
    }
    const op = err instanceof ForeignEntryError ? 'foreign' : readOp;
    metrics?.cacheErrors.inc({ layer, op });
    const detail = { layer, op, err: err instanceof Error ? { name: err.name, message: err.message, code: (err as NodeJS.ErrnoException).code } : String(err) };
    if (reportErrors) logger.error(detail, `cache ${layer} ${op} failed`);
    else logger.debug(detail, `cache ${layer} ${op} failed`);
  };
}

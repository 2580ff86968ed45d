/**
 * Cache error reporting. Cache errors never fail a request: the caller carries on without
 * the cache. imgproxy (https://docs.imgproxy.net/cache/internal): "IMGPROXY_CACHE_REPORT_ERRORS:
 * When true, imgproxy will report cache errors instead of silently falling back" — true → an
 * error-level log with the detail, false → only the `cacheErrors` metric (and a debug line).
 * PreviewProxy swallows them (`let _ = self.l2.set(…)`,
 * https://github.com/ViGrise/previewproxy/blob/main/src/modules/cache/manager.rs), so an
 * unwritable directory silently turns L2 off.
 */
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { ForeignEntryError } from '../storage/entry-key.js';

export type ErrorReporter = (layer: string, op: string, err: unknown) => void;

/** A foreign entry (one recorded under another key, see storage/entry-key.ts) is counted as op `foreign`, whatever the read. */
export function createErrorReporter(reportErrors: boolean, logger: Logger, metrics: Metrics | undefined): ErrorReporter {
  return (layer, readOp, err) => {
    const op = err instanceof ForeignEntryError ? 'foreign' : readOp;
    metrics?.cacheErrors.inc({ layer, op });
    const detail = { layer, op, err: err instanceof Error ? { name: err.name, message: err.message, code: (err as NodeJS.ErrnoException).code } : String(err) };
    if (reportErrors) logger.error(detail, `cache ${layer} ${op} failed`);
    else logger.debug(detail, `cache ${layer} ${op} failed`);
  };
}

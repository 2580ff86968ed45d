/**
 * Cache error reporting. Cache errors never fail a request: the caller carries on without
 * the cache. Seed: "IMGPROXY_CACHE_REPORT_ERRORS: When true, imgproxy will report cache
 * errors instead of silently falling back" — true → an error-level log with the detail,
 * false → only the `cacheErrors` metric (and a debug line). PreviewProxy (reference §3.9)
 * swallowed them, so an unwritable directory silently turned L2 off.
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

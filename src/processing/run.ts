/**
 * The budget of one request's processing: the deadline and the abort signal that every sharp
 * pass is started under. Once the client has its answer (an image, a 503, or nobody left
 * waiting), the work must stop: the signal is checked before each pass starts, and each pass
 * gets sharp's `timeout` (https://sharp.pixelplumbing.com/api-output#timeout) set to the
 * seconds left, so libvips kills a pass that is still running at the deadline.
 */
import type { Sharp } from 'sharp';
import { ProxyError } from '../errors.js';

export interface Run {
  /** Epoch milliseconds by which processing must be over. */
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
}

/** sharp accepts whole seconds from 1 to 3600 (0 would mean "no timeout"). */
const MAX_TIMEOUT_SECONDS = 3600;

/** Throws the abort reason (a ProxyError) or CANCELLED once the signal fired. */
export function checkAbort(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  if (reason instanceof ProxyError) throw reason;
  throw new ProxyError('CANCELLED', reason instanceof Error ? reason.message : 'processing aborted', { cause: reason });
}

/** Whole seconds left before the deadline; TIMEOUT when none is. */
export function secondsLeft(run: Run, now = Date.now()): number {
  const ms = run.deadline - now;
  if (!(ms > 0)) throw new ProxyError('TIMEOUT', 'processing reached the request deadline');
  return Math.min(MAX_TIMEOUT_SECONDS, Math.ceil(ms / 1000));
}

/** A sharp pass about to start under the budget: aborted or late work never starts. */
export function underBudget(p: Sharp, run: Run): Sharp {
  checkAbort(run.signal);
  return p.timeout({ seconds: secondsLeft(run) });
}

/** Reads a running app's counters (prom-client), summed over their label values. */
import type { Counter } from 'prom-client';
import type { RunningApp } from './app.js';

/** Sum of the counter's values whose labels include `labels` (every value when none given). */
export async function counterTotal<T extends string>(counter: Counter<T>, labels: Partial<Record<T, string>> = {}): Promise<number> {
  const wanted = Object.entries(labels) as [T, string][];
  const { values } = await counter.get();
  return values.filter((v) => wanted.every(([k, x]) => v.labels[k] === x)).reduce((a, v) => a + v.value, 0);
}

/** Images processed so far, every output format. */
export function transforms(px: RunningApp): Promise<number> {
  return counterTotal(px.app.ctx.metrics.transforms);
}

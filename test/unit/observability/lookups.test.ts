/**
 * Cache lookups are counted in plain numbers per layer (Metrics.lookups) and handed to the
 * cache_lookups_total counter when it is read: every read shows the totals, not what was
 * counted since the last read, and /metrics shows only the series that were counted.
 */
import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/observability/metrics.js';
import { parseExposition } from '../../helpers/exposition.js';
import { counterTotal } from '../../helpers/metrics.js';

describe('cache lookup counters', () => {
  it('count per layer and outcome; each read shows the totals; two users of one layer add up', async () => {
    const metrics = createMetrics('', false);
    const memory = metrics.lookups('memory');
    const again = metrics.lookups('memory');
    const l2 = metrics.lookups('l2');
    for (let i = 0; i < 3; i++) memory.count(true);
    again.count(true);
    memory.count(false);
    l2.count(false);
    expect(await counterTotal(metrics.cacheLookups, { layer: 'memory', outcome: 'hit' })).toBe(4);
    expect(await counterTotal(metrics.cacheLookups, { layer: 'memory', outcome: 'hit' })).toBe(4);
    expect(await counterTotal(metrics.cacheLookups, { layer: 'memory', outcome: 'miss' })).toBe(1);
    l2.count(true);
    const m = parseExposition(await metrics.text());
    const samples = m.get('cache_lookups_total')?.samples.map((s) => [s.labels.layer, s.labels.outcome, s.value]);
    expect(samples).toEqual(expect.arrayContaining([['memory', 'hit', 4], ['memory', 'miss', 1], ['l2', 'miss', 1], ['l2', 'hit', 1]]));
    expect(samples).toHaveLength(4);
    // PreviewProxy's hit and miss series are derived from the same counts.
    await metrics.cacheFigures();
    const pp = parseExposition(await metrics.text());
    expect(pp.get('cache_hits_total')?.samples.find((s) => s.labels.layer === 'memory')?.value).toBe(4);
  });
});

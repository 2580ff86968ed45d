import { describe, expect, it } from 'vitest';
import { counter, counterVec, gauge, histogram, histogramVec, renderFamilies } from '../../../src/observability/exposition.js';
import { parseExposition } from '../../helpers/exposition.js';

describe('exposition', () => {
  it('renders counters, gauges and histograms in the text format a scraper parses', () => {
    const c = counter('requests_total', 'A counter.');
    const v = counterVec('status_codes_total', 'Statuses.', 'status');
    const h = histogram('request_duration_seconds', 'Latency.', [0.1, 1]);
    const hv = histogramVec('span_seconds', 'Spans.', 'span', [0.1, 1]);
    c.inc();
    c.inc(2);
    v.child('200').inc();
    v.child('200').inc();
    v.child('404').inc();
    for (const x of [0.05, 0.5, 5]) h.observe(x);
    hv.child('queue').observe(0.01);
    const text = renderFamilies([c, v, h, hv, gauge('workers', 'Workers.', () => 4), gauge('entries', 'Per layer.', () => 2, { layer: 'memory' })]);
    const m = parseExposition(text);
    expect(m.get('requests_total')).toEqual({ type: 'counter', help: 'A counter.', samples: [{ name: 'requests_total', labels: {}, value: 3 }] });
    expect(m.get('status_codes_total')?.samples.map((s) => [s.labels.status, s.value])).toEqual([['200', 2], ['404', 1]]);
    const buckets = m.get('request_duration_seconds')?.samples.filter((s) => s.name.endsWith('_bucket')).map((s) => [s.labels.le, s.value]);
    // Cumulative, as Prometheus expects, with +Inf equal to the count.
    expect(buckets).toEqual([['0.1', 1], ['1', 2], ['+Inf', 3]]);
    expect(m.get('request_duration_seconds')?.samples.find((s) => s.name === 'request_duration_seconds_sum')?.value).toBeCloseTo(5.55);
    expect(m.get('span_seconds')?.samples[0]?.labels).toEqual({ span: 'queue', le: '0.1' });
    expect(m.get('workers')?.samples[0]?.value).toBe(4);
    expect(m.get('entries')?.samples[0]?.labels).toEqual({ layer: 'memory' });
  });

  it('escapes label values and help text', () => {
    const v = counterVec('x_total', 'line\nbreak \\ slash', 'l');
    v.child('a"b\\c\nd').inc();
    const text = renderFamilies([v]);
    expect(text).toContain('# HELP x_total line\\nbreak \\\\ slash');
    expect(parseExposition(text).get('x_total')?.samples[0]?.labels.l).toBe('a"b\\c\nd');
  });

  it('updating a kept child allocates nothing per call (heap stays flat over a million updates)', () => {
    const v = counterVec('c_total', 'c', 'status');
    const child = v.child('200');
    const h = histogram('h_seconds', 'h');
    const run = (n: number) => {
      for (let i = 0; i < n; i++) {
        child.inc();
        h.observe(i % 7 === 0 ? 0.2 : 0.003);
      }
    };
    run(10_000);
    const before = process.memoryUsage().heapUsed;
    run(1_000_000);
    // prom-client's labelled inc() builds an object and a string per call: ~100 MB here.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1024 * 1024);
    expect(child.value).toBe(1_010_000);
  });
});

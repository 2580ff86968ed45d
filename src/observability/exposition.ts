/**
 * Counters, gauges and histograms that cost no allocation to update, rendered in the
 * Prometheus text exposition format (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * The series updated on every request (imgproxy's and PreviewProxy's request counters and
 * latency histograms) live here rather than in prom-client, whose `inc`/`observe` build a
 * label object and a hash string per call: a cache hit should not feed the garbage collector
 * to count itself. A labelled series hands out one child per label value, created once and
 * kept by the caller.
 */

export interface CounterChild {
  inc(by?: number): void;
  readonly value: number;
}

export interface HistogramChild {
  observe(value: number): void;
  readonly count: number;
  readonly sum: number;
}

/** One metric family: renders its `# HELP`, `# TYPE` and sample lines. */
export interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  render(out: string[]): void;
}

/** Go's client_golang default buckets (prometheus.DefBuckets), which imgproxy's histograms use. */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const num = (v: number): string => (v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : Number.isNaN(v) ? 'NaN' : String(v));

function header(out: string[], name: string, help: string, type: string): void {
  out.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
}

class Count implements CounterChild {
  value = 0;
  inc(by = 1): void {
    this.value += by;
  }
}

/** A counter without labels. */
export function counter(name: string, help: string): Family & CounterChild {
  const c = new Count();
  return {
    name,
    type: 'counter',
    inc: (by?: number) => c.inc(by),
    get value() {
      return c.value;
    },
    render(out) {
      header(out, name, help, 'counter');
      out.push(`${name} ${num(c.value)}`);
    },
  };
}

/** A counter with one label; `child(value)` is created on first use and kept. */
export function counterVec(name: string, help: string, label: string): Family & { child(value: string): CounterChild } {
  const children = new Map<string, Count>();
  return {
    name,
    type: 'counter',
    child(value) {
      let c = children.get(value);
      if (!c) children.set(value, (c = new Count()));
      return c;
    },
    render(out) {
      header(out, name, help, 'counter');
      for (const [v, c] of children) out.push(`${name}{${label}="${escapeLabel(v)}"} ${num(c.value)}`);
    },
  };
}

/** A gauge read when scraped, with fixed labels if given. */
export function gauge(name: string, help: string, read: () => number, labels: Readonly<Record<string, string>> = {}): Family {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',');
  const sample = l === '' ? name : `${name}{${l}}`;
  return {
    name,
    type: 'gauge',
    render(out) {
      header(out, name, help, 'gauge');
      out.push(`${sample} ${num(read())}`);
    },
  };
}

class Buckets implements HistogramChild {
  readonly counts: Float64Array;
  count = 0;
  sum = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const b = this.bounds;
    for (let i = 0; i < b.length; i++) {
      if (value <= (b[i] as number)) {
        this.counts[i] = (this.counts[i] as number) + 1;
        break;
      }
    }
    this.count++;
    this.sum += value;
  }
  render(out: string[], name: string, labels: string): void {
    let cumulative = 0;
    const sep = labels === '' ? '' : ',';
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.counts[i] as number;
      out.push(`${name}_bucket{${labels}${sep}le="${num(this.bounds[i] as number)}"} ${cumulative}`);
    }
    out.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${this.count}`);
    const l = labels === '' ? '' : `{${labels}}`;
    out.push(`${name}_sum${l} ${num(this.sum)}`, `${name}_count${l} ${this.count}`);
  }
}

/** A histogram without labels. */
export function histogram(name: string, help: string, buckets: readonly number[] = DEFAULT_BUCKETS): Family & HistogramChild {
  const h = new Buckets(buckets);
  return {
    name,
    type: 'histogram',
    observe: (v: number) => h.observe(v),
    get count() {
      return h.count;
    },
    get sum() {
      return h.sum;
    },
    render(out) {
      header(out, name, help, 'histogram');
      h.render(out, name, '');
    },
  };
}

/** A histogram with one label; `child(value)` is created on first use and kept. */
export function histogramVec(name: string, help: string, label: string, buckets: readonly number[] = DEFAULT_BUCKETS): Family & { child(value: string): HistogramChild } {
  const children = new Map<string, Buckets>();
  return {
    name,
    type: 'histogram',
    child(value) {
      let h = children.get(value);
      if (!h) children.set(value, (h = new Buckets(buckets)));
      return h;
    },
    render(out) {
      header(out, name, help, 'histogram');
      for (const [v, h] of children) h.render(out, name, `${label}="${escapeLabel(v)}"`);
    },
  };
}

/** The text of several families, one block each (the format prom-client joins with). */
export function renderFamilies(families: readonly Family[]): string {
  const blocks: string[] = [];
  for (const f of families) {
    const out: string[] = [];
    f.render(out);
    blocks.push(out.join('\n'));
  }
  return blocks.length === 0 ? '' : `${blocks.join('\n\n')}\n`;
}

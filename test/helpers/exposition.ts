/**
 * A parser of the Prometheus text exposition format (what a real scraper reads), for tests
 * that compare a scrape with a list of series: families with their type, help and samples.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */
export interface ScrapedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ScrapedFamily {
  type: string;
  help: string;
  samples: ScrapedSample[];
}

const unescape = (s: string): string => s.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));

/** Families by name; a second `# TYPE` of one name throws (a registry that serves a name twice is broken). */
export function parseExposition(text: string): Map<string, ScrapedFamily> {
  const families = new Map<string, ScrapedFamily>();
  const family = (name: string): ScrapedFamily => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { type: 'untyped', help: '', samples: [] }));
    return f;
  };
  const typed = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (kind === 'TYPE') {
        if (typed.has(name)) throw new Error(`family ${name} is typed twice`);
        typed.add(name);
        family(name).type = rest;
      } else family(name).help = unescape(rest);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`unparsable sample line: ${line}`);
    const [, name = '', rawLabels = '', value = ''] = m;
    const labels: Record<string, string> = {};
    for (const l of rawLabels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1] ?? ''] = unescape(l[2] ?? '');
    const base = name.replace(/_(bucket|sum|count)$/, '');
    const owner = families.has(name) || !families.has(base) ? name : base;
    family(owner).samples.push({ name, labels, value: value === '+Inf' ? Infinity : Number(value) });
  }
  return families;
}

export async function scrapeFamilies(url: string): Promise<Map<string, ScrapedFamily>> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
  return parseExposition(await res.text());
}

/** The value of the sample `name` whose labels include `labels` (0 when absent). */
export function valueOf(families: Map<string, ScrapedFamily>, name: string, labels: Record<string, string> = {}): number {
  for (const f of families.values()) {
    const s = f.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    if (s) return s.value;
  }
  return 0;
}

/**
 * Result model of a bench run and its Markdown rendering: one table per scenario (req/s,
 * p50/p99, peak RSS, ratio pixproxy/baseline), then the targets of issue 6 next to what
 * was measured, then the environment the numbers come from.
 */

export interface Row {
  server: string;
  /** pixproxy rows are the subject; baseline rows are what it is divided by. */
  /** A baseline (the yardstick of a target) or a peer users would pick instead; both get a ratio. */
  kind: 'pixproxy' | 'baseline' | 'peer';
  connections: number;
  /** Median over runs. */
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx responses plus socket errors, summed over runs. */
  errors: number;
  peakRssMb: number | null;
  note?: string;
}

export interface TargetCheck {
  target: string;
  measured: string;
  /** null: could not be measured in this run. */
  met: boolean | null;
}

export interface ScenarioResult {
  id: string;
  title: string;
  /** One sentence: what the scenario measures. */
  what: string;
  rows: Row[];
  /** Free-form measured facts (counts, checks). */
  facts: Array<[string, string]>;
  targets: TargetCheck[];
  notes: string[];
  skipped?: string;
  /** pixproxy's peak RSS in this scenario and its L1 budget, for the memory target. */
  memory?: { peakRssMb: number | null; l1BudgetMb: number };
}

/** A scenario's result before anything is measured. */
export function emptyResult(id: string, title: string, what: string): ScenarioResult {
  return { id, title, what, rows: [], facts: [], targets: [], notes: [] };
}

export interface ProfileSummary {
  scenario: string;
  file: string;
  totalMs: number;
  /** Sampled before the first request (start-up), left out of the figures. */
  skippedMs: number;
  top: Array<{ name: string; location: string; selfMs: number; pct: number }>;
  /** Self time by source file or npm package. */
  modules: Array<{ file: string; selfMs: number }>;
}

export interface RunInfo {
  date: string;
  argv: string;
  commit: string;
  node: string;
  sharp: string;
  cpus: string;
  loadBefore: string;
  loadAfter: string;
  wrk: string;
  nginx: string;
  durationS: number;
  runs: number;
  elapsedS: number;
  /** How pixproxy was started. */
  pixproxy: string;
}

export function fmtNum(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(digits);
}

export function fmtMs(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toString();
}

export function ratio(a: number | undefined, b: number | undefined): number | null {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

export function fmtRatio(r: number | null): string {
  return r === null ? '–' : `${r.toFixed(2)}×`;
}

function rowsTable(s: ScenarioResult): string[] {
  // Each baseline row is compared with the pixproxy row above it.
  let subject: Row | undefined;
  const out = ['| server | conns | req/s | p50 ms | p99 ms | requests | errors | peak RSS MB | pixproxy / this |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
  for (const r of s.rows) {
    if (r.kind === 'pixproxy') subject = r;
    const rel = r.kind !== 'pixproxy' && subject ? fmtRatio(ratio(subject.reqPerSec, r.reqPerSec)) : '';
    const name = r.note ? `${r.server} (${r.note})` : r.server;
    out.push(`| ${name} | ${r.connections} | ${fmtNum(r.reqPerSec)} | ${fmtMs(r.p50Ms)} | ${fmtMs(r.p99Ms)} | ${r.requests.toLocaleString('en-US')} | ${r.errors} | ${fmtNum(r.peakRssMb, 0)} | ${rel} |`);
  }
  return out;
}

function mark(met: boolean | null): string {
  return met === null ? 'n/a' : met ? 'met' : '**MISSED**';
}

export function renderReport(info: RunInfo, scenarios: ScenarioResult[], profiles: ProfileSummary[]): string {
  const lines: string[] = [];
  lines.push(`# pixproxy benchmark — ${info.date}`, '');
  lines.push(`\`${info.argv}\` · commit \`${info.commit}\` · ${info.durationS} s per wrk run · median of ${info.runs} run(s) · total ${Math.round(info.elapsedS)} s`, '');
  lines.push('Ratios are pixproxy ÷ baseline on throughput (req/s): 1.00× means as fast as the baseline. All servers ran on 127.0.0.1 on the same machine as wrk, one at a time.', '');

  const targets = scenarios.flatMap((s) => s.targets.map((t) => ({ scenario: s.id, ...t })));
  if (targets.length > 0) {
    lines.push('## Targets (issue 15)', '', '| scenario | target | measured | |', '|---|---|---|---|');
    for (const t of targets) lines.push(`| ${t.scenario} | ${t.target} | ${t.measured} | ${mark(t.met)} |`);
    lines.push('');
  }

  for (const s of scenarios) {
    lines.push(`## ${s.title}`, '', s.what, '');
    if (s.skipped) {
      lines.push(`_Skipped: ${s.skipped}_`, '');
      continue;
    }
    if (s.rows.length > 0) lines.push(...rowsTable(s), '');
    if (s.facts.length > 0) {
      for (const [k, v] of s.facts) lines.push(`- ${k}: ${v}`);
      lines.push('');
    }
    for (const n of s.notes) lines.push(`> ${n}`, '');
  }

  if (profiles.length > 0) {
    lines.push('## CPU profiles (pixproxy main thread, self time)', '');
    lines.push('sharp/libvips work runs on libuv threads and is not in these profiles; the main thread waiting for it shows as `(idle)`.', '');
    for (const p of profiles) {
      lines.push(`### ${p.scenario} — \`${p.file}\` (${fmtNum(p.totalMs, 0)} ms sampled from the first request on; ${fmtNum(p.skippedMs, 0)} ms of start-up left out)`, '', '| self ms | % | function | location |', '|---:|---:|---|---|');
      for (const t of p.top) lines.push(`| ${fmtNum(t.selfMs, 0)} | ${t.pct.toFixed(1)} | \`${t.name}\` | ${t.location} |`);
      lines.push('', '| self ms | % | module |', '|---:|---:|---|');
      for (const m of p.modules) lines.push(`| ${fmtNum(m.selfMs, 0)} | ${p.totalMs > 0 ? ((100 * m.selfMs) / p.totalMs).toFixed(1) : '–'} | ${m.file} |`);
      lines.push('');
    }
  }

  lines.push('## Environment', '');
  lines.push(`- pixproxy: \`${info.pixproxy}\``, `- node ${info.node}; ${info.sharp}`, `- CPU: ${info.cpus}`, `- load average before/after: ${info.loadBefore} / ${info.loadAfter} (other work on the machine skews every number)`, `- ${info.wrk || 'wrk: not available'}; ${info.nginx || 'nginx: not available'}`, '');
  return lines.join('\n');
}

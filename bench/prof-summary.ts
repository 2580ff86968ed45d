/**
 * Top self-time functions of a V8 .cpuprofile (written by `node --cpu-prof`), so one can say
 * where pixproxy's main thread spends its time. Self time = the sampled time a function was
 * on top of the stack; functions are merged by name + location. Also: self time by module
 * (source file or npm package), and the callers of one function.
 *
 * The process's start (module loading, compiling, the L2 index scan) is not the scenario:
 * with `--from-request` (the bench's default) samples before the first one inside pixproxy's
 * request handler (src/http/server) are left out.
 *
 * `--last-ms N` keeps only the last N ms before the process stopped: the measured wrk run of a
 * scenario whose warm-up pass is longer than it (the 100,000-entry L2, whose first read of
 * every entry takes ~30 s).
 *
 * usage: npx tsx bench/prof-summary.ts <file.cpuprofile> [top=25] [--all] [--last-ms N] [--callers NAME]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface TopEntry {
  name: string;
  location: string;
  selfMs: number;
  pct: number;
}

function location(cf: CallFrame, root: string): string {
  if (!cf.url) return '';
  let u = cf.url;
  if (u.startsWith('file://')) u = relative(root, fileURLToPath(u));
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm);
  return `${u}:${cf.lineNumber + 1}`;
}

const REQUEST_FRAME = /\/http\/server\.[jt]s$/;

/** Index of the first sample whose stack holds a frame of the request handler (0 if none). */
function firstRequestSample(prof: CpuProfile, byId: Map<number, ProfileNode>): number {
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inRequest = new Map<number, boolean>();
  const test = (id: number): boolean => {
    const known = inRequest.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id);
    const p = parent.get(id);
    const v = n !== undefined && (REQUEST_FRAME.test(n.callFrame.url) || (p !== undefined && test(p)));
    inRequest.set(id, v);
    return v;
  };
  const samples = prof.samples ?? [];
  for (let i = 0; i < samples.length; i++) if (test(samples[i] ?? 0)) return i;
  return 0;
}

export interface SummaryOptions {
  /** Leave out the samples before the first request (default true). */
  fromRequest?: boolean;
  /** Keep only the samples of the last this many ms of the profile. */
  lastMs?: number;
}

/** Index of the first sample within the last `ms` of the profile. */
function firstSampleOfLast(deltas: readonly number[], ms: number): number {
  let at = 0;
  const stamps = deltas.map((d) => (at += d));
  const cut = at - ms * 1000;
  const i = stamps.findIndex((t) => t >= cut);
  return i < 0 ? 0 : i;
}

export function summarizeProfile(file: string, top = 25, root = process.cwd(), o: SummaryOptions = {}): { totalMs: number; skippedMs: number; top: TopEntry[] } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  const from = Math.max(o.fromRequest === false ? 0 : firstRequestSample(prof, byId), o.lastMs !== undefined ? firstSampleOfLast(deltas, o.lastMs) : 0);
  let skippedUs = 0;
  for (let i = 0; i < from; i++) skippedUs += Math.max(0, deltas[i + 1] ?? 0);
  if (samples.length > 0) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to sample i.
    for (let i = from; i < samples.length; i++) {
      const id = samples[i] ?? 0;
      const dt = deltas[i + 1] ?? 0;
      self.set(id, (self.get(id) ?? 0) + Math.max(0, dt));
    }
  } else {
    const avg = (prof.endTime - prof.startTime) / Math.max(1, prof.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0));
    for (const n of prof.nodes) self.set(n.id, (n.hitCount ?? 0) * avg);
  }
  const merged = new Map<string, TopEntry>();
  let totalUs = 0;
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node) continue;
    totalUs += us;
    const name = node.callFrame.functionName || '(anonymous)';
    const loc = location(node.callFrame, root);
    const key = `${name}@${loc}`;
    const e = merged.get(key) ?? { name, location: loc, selfMs: 0, pct: 0 };
    e.selfMs += us / 1000;
    merged.set(key, e);
  }
  const totalMs = totalUs / 1000;
  const list = [...merged.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  for (const e of list) e.pct = totalMs > 0 ? (100 * e.selfMs) / totalMs : 0;
  return { totalMs, skippedMs: skippedUs / 1000, top: list };
}

/** Who calls `name` (its parent frames, `depth` deep), by self time of `name` under them. */
export function callersOf(file: string, name: string, depth = 4, root = process.cwd(), lastMs?: number): Array<{ stack: string; selfMs: number }> {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  const out = new Map<string, number>();
  for (let i = lastMs !== undefined ? firstSampleOfLast(deltas, lastMs) : 0; i < samples.length; i++) {
    const id = samples[i] ?? 0;
    if (byId.get(id)?.callFrame.functionName !== name) continue;
    const chain: string[] = [];
    for (let p = parent.get(id), k = 0; p !== undefined && k < depth; p = parent.get(p), k++) {
      const cf = byId.get(p)?.callFrame;
      if (cf) chain.push(`${cf.functionName || '(anonymous)'} (${location(cf, root)})`);
    }
    const key = chain.join(' < ');
    out.set(key, (out.get(key) ?? 0) + Math.max(0, deltas[i + 1] ?? 0) / 1000);
  }
  return [...out.entries()].map(([stack, selfMs]) => ({ stack, selfMs })).sort((a, b) => b.selfMs - a.selfMs);
}

/** Self time grouped by file (node_modules package or source file). */
export function summarizeByFile(file: string, root = process.cwd(), o: SummaryOptions = {}): Array<{ file: string; selfMs: number }> {
  const { top } = summarizeProfile(file, Number.MAX_SAFE_INTEGER, root, o);
  const byFile = new Map<string, number>();
  for (const e of top) {
    const f = e.location.replace(/:\d+$/, '') || e.name;
    const pkg = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)?.[1];
    const k = pkg ? `node_modules/${pkg}` : f;
    byFile.set(k, (byFile.get(k) ?? 0) + e.selfMs);
  }
  return [...byFile.entries()].map(([f, selfMs]) => ({ file: f, selfMs })).sort((a, b) => b.selfMs - a.selfMs);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const all = args.includes('--all');
  const ci = args.indexOf('--callers');
  const callers = ci >= 0 ? args[ci + 1] : undefined;
  const li = args.indexOf('--last-ms');
  const lastMs = li >= 0 ? Number(args[li + 1]) : undefined;
  const [file, topArg] = args.filter((a, i) => !a.startsWith('--') && (ci < 0 || i !== ci + 1) && (li < 0 || i !== li + 1));
  if (!file || (lastMs !== undefined && !(lastMs > 0))) {
    process.stderr.write('usage: tsx bench/prof-summary.ts <file.cpuprofile> [top] [--all] [--last-ms N] [--callers NAME]\n');
    process.exit(2);
  }
  const o: SummaryOptions = { fromRequest: !all, ...(lastMs !== undefined ? { lastMs } : {}) };
  const { totalMs, skippedMs, top } = summarizeProfile(file, Number(topArg ?? 25), process.cwd(), o);
  const out: string[] = [`${file}: ${totalMs.toFixed(0)} ms sampled${skippedMs > 0 ? ` (the first ${skippedMs.toFixed(0)} ms left out: ${lastMs !== undefined ? `all but the last ${lastMs} ms` : 'before the first request; --all keeps them'})` : ''}`, '', '  self ms      %  function  (location)'];
  for (const e of top) out.push(`${e.selfMs.toFixed(1).padStart(9)} ${e.pct.toFixed(1).padStart(6)}  ${e.name}  (${e.location})`);
  out.push('', 'by module (file or package):');
  for (const f of summarizeByFile(file, process.cwd(), o).slice(0, 15)) out.push(`${f.selfMs.toFixed(1).padStart(9)} ${((100 * f.selfMs) / Math.max(1, totalMs)).toFixed(1).padStart(6)}  ${f.file}`);
  if (callers) {
    out.push('', `callers of ${callers}:`);
    for (const c of callersOf(file, callers, 4, process.cwd(), lastMs).slice(0, 8)) out.push(`${c.selfMs.toFixed(1).padStart(9)}  ${c.stack}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

/**
 * Top self-time functions of a V8 .cpuprofile (written by `node --cpu-prof`), so one can say
 * where pixproxy's main thread spends its time. Self time = the sampled time a function was
 * on top of the stack; functions are merged by name + location.
 *
 * usage: npx tsx bench/prof-summary.ts <file.cpuprofile> [top=25]
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

export function summarizeProfile(file: string, top = 25, root = process.cwd()): { totalMs: number; top: TopEntry[] } {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  if (samples.length > 0) {
    // timeDeltas[i] is the time before sample i; attribute the following delta to sample i.
    for (let i = 0; i < samples.length; i++) {
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
  return { totalMs, top: list };
}

/** Self time grouped by file (node_modules package or source file). */
export function summarizeByFile(file: string, root = process.cwd()): Array<{ file: string; selfMs: number }> {
  const { top } = summarizeProfile(file, Number.MAX_SAFE_INTEGER, root);
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
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: tsx bench/prof-summary.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  const { totalMs, top } = summarizeProfile(file, Number(process.argv[3] ?? 25));
  process.stdout.write(`${file}: ${totalMs.toFixed(0)} ms sampled\n\n  self ms      %  function  (location)\n`);
  for (const e of top) process.stdout.write(`${e.selfMs.toFixed(1).padStart(9)} ${e.pct.toFixed(1).padStart(6)}  ${e.name}  (${e.location})\n`);
  process.stdout.write('\nby file/package:\n');
  for (const f of summarizeByFile(file).slice(0, 12)) process.stdout.write(`${f.selfMs.toFixed(1).padStart(9)}  ${f.file}\n`);
}

/**
 * What every scenario gets (options, paths, tools, the shared origin) and the measuring
 * helper: runs wrk against each server in turn — interleaved when there are several runs,
 * so drifting background load hits all of them alike — and reduces runs to medians.
 */
import type { Row } from '../report.js';
import type { Tool } from '../lib/tools.js';
import { expand, nextSeqBase, sourcesArg, type PatternMode, type Source } from '../lib/pattern.js';
import { peakRssMb } from '../lib/rss.js';
import { runWrk, type WrkResult } from '../wrk.js';
import type { Server, ServerEnv } from '../servers.js';
import { get, type GetResult } from '../lib/http.js';
import { sleep } from '../lib/proc.js';

export interface Options {
  quick: boolean;
  durationS: number;
  runs: number;
  profile: boolean;
  /** null = all scenarios. */
  scenarios: Set<string> | null;
  pixproxyEntry: string;
  /** Extra environment for pixproxy (--env KEY=VALUE), e.g. to try a tuning. */
  pixproxyEnv: Record<string, string>;
  keep: boolean;
}

export interface Ctx {
  opts: Options;
  env: ServerEnv;
  /** Generated source images. */
  srcDir: string;
  /** Scratch directory of this run (cache dirs, nginx, hit files). */
  workDir: string;
  resultsDir: string;
  tools: Set<Tool>;
  origin: Server;
  log(msg: string): void;
  /** Date-based id of this run (report and profile names). */
  runId: string;
  /** Directories that received pixproxy CPU profiles in this run. */
  profiles: Array<{ scenario: string; dir: string }>;
  /** The hit baselines measured once in this run (shared by L1 and L2), with how the bare server's headers compare (null: the same). */
  hitBaselines?: { rows: Row[]; high: Row | undefined; headerDifference: string | null };
}

export class SkipError extends Error {}

export interface MeasureSpec {
  server: Server;
  kind: Row['kind'];
  /** Shown after the server name. */
  note?: string;
  pattern: string;
  mode: PatternMode;
  /** cycle/rand: number of distinct paths. */
  k?: number;
  sources: readonly Source[];
}

export interface MeasureOptions {
  connections: number;
  durationS?: number;
  timeoutS?: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

export async function measure(ctx: Ctx, specs: MeasureSpec[], o: MeasureOptions): Promise<Row[]> {
  if (!ctx.tools.has('wrk')) throw new SkipError('wrk is not installed');
  const results: WrkResult[][] = specs.map(() => []);
  for (let run = 0; run < ctx.opts.runs; run++) {
    for (const [i, spec] of specs.entries()) {
      const arg = spec.mode === 'seq' ? nextSeqBase() : (spec.k ?? 1);
      ctx.log(`  wrk ${spec.server.name}${spec.note ? ` (${spec.note})` : ''}: c=${o.connections}, ${o.durationS ?? ctx.opts.durationS} s, ${spec.mode} ${spec.pattern}`);
      const r = await runWrk({
        url: spec.server.url,
        connections: o.connections,
        durationS: o.durationS ?? ctx.opts.durationS,
        timeoutS: o.timeoutS,
        script: 'pattern.lua',
        scriptArgs: [spec.pattern, spec.mode, String(arg), sourcesArg(spec.sources)],
      });
      ctx.log(`    → ${r.reqPerSec.toFixed(1)} req/s, p50 ${r.latency.p50Ms.toFixed(2)} ms, p99 ${r.latency.p99Ms.toFixed(2)} ms, ${r.requests} requests, ${r.non2xx} non-2xx`);
      results[i]?.push(r);
    }
  }
  return specs.map((spec, i) => {
    const rs = results[i] ?? [];
    const errors = rs.reduce((a, r) => a + r.non2xx + r.socketErrors.connect + r.socketErrors.read + r.socketErrors.write + r.socketErrors.timeout, 0);
    return {
      server: spec.server.name,
      kind: spec.kind,
      connections: o.connections,
      reqPerSec: median(rs.map((r) => r.reqPerSec)),
      p50Ms: median(rs.map((r) => r.latency.p50Ms)),
      p99Ms: median(rs.map((r) => r.latency.p99Ms)),
      requests: rs.reduce((a, r) => a + r.requests, 0),
      errors,
      peakRssMb: peakRssMb(spec.server.proc.pid, spec.server.withChildren),
      ...(spec.note ? { note: spec.note } : {}),
    };
  });
}

/** True when a row has too many errors for its throughput to mean anything. */
export function unreliable(row: Row | undefined): boolean {
  return !row || !Number.isFinite(row.reqPerSec) || row.requests === 0 || row.errors > row.requests * 0.01;
}

/**
 * GETs a path until it answers 200 (and, if given, with that X-Cache value), retrying a few
 * times because pixproxy stores a result only after the response. Throws with the last answer.
 */
export async function warm(server: Server, path: string, expectCache?: string, tries = 10): Promise<GetResult> {
  let last: GetResult | undefined;
  for (let i = 0; i < tries; i++) {
    last = await get(server.url + path);
    const xc = last.headers['x-cache'];
    if (last.status === 200 && (expectCache === undefined || xc === expectCache)) return last;
    await sleep(100);
  }
  const detail = last ? `${last.status} X-Cache=${String(last.headers['x-cache'])} ${last.status !== 200 ? last.body.toString().slice(0, 200) : ''}` : 'no answer';
  throw new Error(`${server.name}: GET ${path} did not give 200${expectCache ? ` ${expectCache}` : ''}: ${detail}`);
}

/**
 * Warm-up requests through every spec (JIT, connection pools), with fresh seq numbers. A
 * peer (kind `peer`) that fails its warm-up is dropped from `specs` with a note in the log
 * rather than failing the scenario; anything else throws.
 */
export async function warmSpecs(specs: MeasureSpec[], count: number, log?: (msg: string) => void): Promise<void> {
  for (const spec of [...specs]) {
    try {
      await warmOne(spec, count);
    } catch (err) {
      if (spec.kind !== 'peer') throw err;
      log?.(`  ${spec.server.name} left out: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
      specs.splice(specs.indexOf(spec), 1);
    }
  }
}

async function warmOne(spec: MeasureSpec, count: number): Promise<void> {
  const base = nextSeqBase();
  for (let j = 0; j < count; j++) {
    const n = spec.mode === 'seq' ? base + j : j % (spec.k ?? 1);
    const r = await get(spec.server.url + expand(spec.pattern, n, spec.sources));
    if (r.status !== 200) throw new Error(`${spec.server.name}: warm-up ${expand(spec.pattern, n, spec.sources)} → ${r.status} ${r.body.toString().slice(0, 200)}`);
  }
}

/**
 * `npm run bench`: starts pixproxy and the baselines on loopback, drives them with wrk and
 * writes a Markdown report (bench/results/report-<date>.md, also printed).
 *
 *   npm run bench -- [--quick] [--scenario NAME[,NAME]] [--profile] [--duration S] [--runs N]
 *                    [--pixproxy-entry src/main.ts|dist/main.js] [--keep]
 *
 * Scenarios: miss, origin-hit, l1-hit, l2-hit, stampede, scale, l2-scale. See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { ensureSources, type SourceId } from './images.js';
import { killAllNow, stopAll } from './lib/proc.js';
import { ensureTools, toolVersion } from './lib/tools.js';
import { renderReport, type ProfileSummary, type ScenarioResult, type TargetCheck } from './report.js';
import { summarizeByFile, summarizeProfile } from './prof-summary.js';
import { startBaseline } from './servers.js';
import { SkipError, type Ctx, type Options } from './scenarios/context.js';
import { missScenario } from './scenarios/miss.js';
import { originHitScenario } from './scenarios/origin-hit.js';
import { hitScenario } from './scenarios/hit.js';
import { stampedeScenario } from './scenarios/stampede.js';
import { l2ScaleScenario, scaleScenario } from './scenarios/scale.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const SCENARIOS: Record<string, { title: string; run: (ctx: Ctx) => Promise<ScenarioResult> }> = {
  miss: { title: 'miss', run: missScenario },
  'origin-hit': { title: 'origin hit', run: originHitScenario },
  'l1-hit': { title: 'L1 hit', run: (ctx) => hitScenario(ctx, 'L1') },
  'l2-hit': { title: 'L2 hit', run: (ctx) => hitScenario(ctx, 'L2') },
  stampede: { title: 'stampede', run: stampedeScenario },
  scale: { title: 'scale', run: scaleScenario },
  'l2-scale': { title: 'L2 scale', run: l2ScaleScenario },
};

const USAGE = `usage: npm run bench -- [options]
  --quick               smoke run: 3 s per wrk run, 10,000 L2 entries instead of 100,000 (~3 min)
  --scenario NAME       only these scenarios (repeat or comma-separate): ${Object.keys(SCENARIOS).join(', ')}
  --profile             CPU-profile pixproxy in miss, origin-hit, l1-hit and l2-hit (bench/results/prof/)
  --duration S          seconds per wrk run (default 8, 3 with --quick)
  --runs N              wrk runs per server, reported as medians (default 1)
  --pixproxy-entry F    pixproxy entry point (default src/main.ts through tsx; dist/main.js after npm run build)
  --env KEY=VALUE       extra environment for pixproxy (repeatable), e.g. to try a tuning
  --keep                keep the scratch directory (cache dirs, nginx config)`;

function parseArgs(argv: string[]): Options {
  const o: Options = { quick: false, durationS: 0, runs: 1, profile: false, scenarios: null, pixproxyEntry: 'src/main.ts', pixproxyEnv: {}, keep: false };
  const value = (i: number, flag: string): string => {
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--profile') o.profile = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--scenario') {
      o.scenarios ??= new Set();
      for (const s of value(i++, a).split(',')) {
        if (!SCENARIOS[s]) throw new Error(`unknown scenario ${JSON.stringify(s)}; expected one of ${Object.keys(SCENARIOS).join(', ')}`);
        o.scenarios.add(s);
      }
    } else if (a === '--duration') o.durationS = positive(value(i++, a), a);
    else if (a === '--runs') o.runs = positive(value(i++, a), a);
    else if (a === '--pixproxy-entry') o.pixproxyEntry = value(i++, a);
    else if (a === '--env') {
      const kv = value(i++, a);
      const eq = kv.indexOf('=');
      if (eq < 1) throw new Error(`--env: expected KEY=VALUE, got ${JSON.stringify(kv)}`);
      o.pixproxyEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
  }
  if (o.durationS === 0) o.durationS = o.quick ? 3 : 8;
  return o;
}

function positive(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag}: expected a positive integer, got ${JSON.stringify(v)}`);
  return n;
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT }).toString().trim() !== '';
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** The memory target over every scenario that reported pixproxy's peak RSS with a known L1 budget. */
function memoryTarget(results: ScenarioResult[]): TargetCheck | null {
  const withMem = results.filter((r) => r.memory && r.memory.peakRssMb !== null);
  if (withMem.length === 0) return null;
  const worst = withMem.reduce((a, b) => ((b.memory?.peakRssMb ?? 0) - (b.memory?.l1BudgetMb ?? 0) > (a.memory?.peakRssMb ?? 0) - (a.memory?.l1BudgetMb ?? 0) ? b : a));
  const peak = worst.memory?.peakRssMb ?? 0;
  const budget = worst.memory?.l1BudgetMb ?? 0;
  return { target: 'peak RSS under load ≤ L1 budget + 300 MB', measured: `${peak} MB in ${worst.id} (L1 budget ${budget} MB → limit ${budget + 300} MB)`, met: peak <= budget + 300 };
}

/** The main thread's profile in a --cpu-prof-dir (default names: CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile). */
function mainThreadProfile(dir: string): string | null {
  if (!existsSync(dir)) return null;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const main = files.find((f) => f.split('.')[4] === '0') ?? files[0];
  return main ? join(dir, main) : null;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
  const date = new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  if (opts.profile) mkdirSync(join(resultsDir, 'prof'), { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'pixproxy-bench-'));
  // nginx workers run as an unprivileged user when the bench runs as root: they must traverse it.
  chmodSync(workDir, 0o755);
  if (!existsSync(resolve(ROOT, opts.pixproxyEntry))) throw new Error(`pixproxy entry ${opts.pixproxyEntry} not found (for dist/main.js run \`npm run build\` first)`);

  const selected = Object.keys(SCENARIOS).filter((s) => opts.scenarios === null || opts.scenarios.has(s));
  log(`scenarios: ${selected.join(', ')}; ${opts.durationS} s per wrk run, ${opts.runs} run(s); scratch ${workDir}`);
  const tools = await ensureTools(['wrk', 'nginx', 'nginx-image-filter'], log);
  const ids: SourceId[] = ['big', 'alpha', 'photo', ...(selected.includes('scale') ? (['huge'] as const) : [])];
  const srcDir = await ensureSources(join(ROOT, 'bench', '.cache', 'src'), ids, log);

  const env = { root: ROOT, pixproxyEntry: opts.pixproxyEntry, pixproxyEnv: opts.pixproxyEnv };
  const origin = await startBaseline(env, 'origin', srcDir);
  log(`origin on ${origin.url}`);
  const ctx: Ctx = { opts, env, srcDir, workDir, resultsDir, tools, origin, log, runId: date, profiles: [] };

  const results: ScenarioResult[] = [];
  try {
    for (const id of selected) {
      const s = SCENARIOS[id];
      if (!s) continue;
      log(`— ${s.title}`);
      const t0 = Date.now();
      try {
        results.push(await s.run(ctx));
      } catch (err) {
        const reason = err instanceof SkipError ? err.message : `failed: ${err instanceof Error ? err.message : String(err)}`;
        log(`${id} ${reason}`);
        results.push({ id, title: s.title, what: '', rows: [], facts: [], targets: [], notes: [], skipped: reason.split('\n').slice(0, 8).join(' ') });
      }
      log(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    }
  } finally {
    await origin.stop();
    await stopAll();
  }

  const mem = memoryTarget(results);
  const firstWithTargets = results.find((r) => r.targets.length > 0 || r.memory);
  if (mem && firstWithTargets) {
    results.push({ id: 'memory', title: 'memory', what: 'Peak RSS (VmHWM) of pixproxy over the scenarios that use the default L1 budget.', rows: [], facts: results.filter((r) => r.memory).map((r) => [r.id, `${r.memory?.peakRssMb ?? '–'} MB (L1 ${r.memory?.l1BudgetMb} MB)`]), targets: [mem], notes: [] });
  }

  const profiles: ProfileSummary[] = [];
  for (const p of ctx.profiles) {
    const file = mainThreadProfile(p.dir);
    if (!file) {
      log(`no CPU profile was written into ${p.dir}`);
      continue;
    }
    const s = summarizeProfile(file, 15, ROOT);
    profiles.push({ scenario: p.scenario, file: relative(ROOT, file), totalMs: s.totalMs, skippedMs: s.skippedMs, top: s.top, modules: summarizeByFile(file, ROOT).slice(0, 10) });
  }

  const report = renderReport(
    {
      date,
      argv: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      commit: gitCommit(),
      node: process.version,
      sharp: `sharp ${sharp.versions.sharp ?? '?'}, libvips ${sharp.versions.vips}, sharp.concurrency() ${sharp.concurrency()}`,
      cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
      loadBefore,
      loadAfter: loadavg().map((l) => l.toFixed(2)).join(' '),
      wrk: tools.has('wrk') ? await toolVersion('wrk', ['--version']) : '',
      nginx: tools.has('nginx') ? await toolVersion('nginx', ['-v']) : '',
      durationS: opts.durationS,
      runs: opts.runs,
      elapsedS: (Date.now() - started) / 1000,
      pixproxy: `${Object.entries(opts.pixproxyEnv).map(([k, v]) => `${k}=${v} `).join('')}node ${/\.[cm]?ts$/.test(opts.pixproxyEntry) ? '--import tsx ' : ''}${opts.pixproxyEntry}`,
    },
    results,
    profiles,
  );
  const file = join(resultsDir, `report-${date}.md`);
  writeFileSync(file, report);
  process.stdout.write(`${report}\n`);
  log(`report written to ${relative(process.cwd(), file)}`);
  if (!opts.keep) rmSync(workDir, { recursive: true, force: true });
  else log(`scratch directory kept: ${workDir}`);
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${sig}: stopping every process started by this run…`);
    void stopAll().finally(() => process.exit(130));
  });
}
process.on('exit', killAllNow);

main().catch(async (err: unknown) => {
  log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await stopAll();
  process.exit(1);
});

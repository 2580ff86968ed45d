/**
 * stampede: 200 concurrent requests for one new key (of a never-fetched 12 MP source).
 * Single-flight should turn them into one upstream fetch and one transform, and the slowest
 * of the 200 should take little longer than one request alone. Fetches are counted at the
 * origin, transforms from pixproxy's /metrics (transforms_total).
 */
import { Agent } from 'node:http';
import { emptyResult, fmtMs, fmtRatio, ratio, type ScenarioResult } from '../report.js';
import { get, promSum } from '../lib/http.js';
import { peakRssMb } from '../lib/rss.js';
import { startPixproxy, type Server } from '../servers.js';
import type { Ctx } from './context.js';
import { DEFAULT_L1_MB, originBase, originStats, pixproxyCacheDir } from './shared.js';

export const STAMPEDE = 200;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export async function stampedeScenario(ctx: Ctx): Promise<ScenarioResult> {
  const result = emptyResult(
    'stampede',
    `stampede — ${STAMPEDE} concurrent requests for one new key`,
    `${STAMPEDE} requests sent at once (on pre-opened keep-alive connections) for one variant of a never-fetched 12 MP source, compared with one request alone for another new source.`,
  );
  const nonce = `${process.pid}-${Date.now()}`;
  const agent = new Agent({ keepAlive: true, maxSockets: STAMPEDE });
  let pix: Server | undefined;
  try {
    pix = await startPixproxy(ctx.env, { cacheDir: pixproxyCacheDir(ctx) });
    const url = (tag: string) => `${pix?.url}/insecure/rs:fit:800:800/plain/${originBase(ctx)}/s/${tag}/big.jpg@jpg`;
    // Warm the code paths, then time lone requests for new sources (median of 3).
    await get(url(`warm-${nonce}`));
    const lone: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await get(url(`lone-${i}-${nonce}`), agent);
      if (r.status !== 200) throw new Error(`lone request → ${r.status} ${r.body.toString().slice(0, 200)}`);
      lone.push(r.ms);
    }
    lone.sort((a, b) => a - b);
    const loneMs = lone[1] ?? Number.NaN;
    // Open the connections first so that connection setup is not part of the stampede.
    await Promise.all(Array.from({ length: STAMPEDE }, () => get(`${pix?.url}/health`, agent)));
    const metricsBefore = (await get(`${pix.url}/metrics`)).body.toString();
    const target = url(`stampede-${nonce}`);
    const started = process.hrtime.bigint();
    const answers = await Promise.all(Array.from({ length: STAMPEDE }, () => get(target, agent).catch((err: unknown) => ({ status: 0, ms: Number.NaN, error: String(err) }))));
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const metricsAfter = (await get(`${pix.url}/metrics`)).body.toString();
    const fetches = (await originStats(ctx, `/s/stampede-${nonce}/big.jpg`)).path;
    const transforms = promSum(metricsAfter, 'transforms_total') - promSum(metricsBefore, 'transforms_total');
    const upstreamMetric = promSum(metricsAfter, 'upstream_fetches_total') - promSum(metricsBefore, 'upstream_fetches_total');
    const ok = answers.filter((a) => a.status === 200).length;
    const times = answers.map((a) => a.ms).filter(Number.isFinite).sort((a, b) => a - b);
    const slowest = times[times.length - 1] ?? Number.NaN;
    const rel = ratio(slowest, loneMs);
    result.facts.push(
      ['responses 200', `${ok} / ${STAMPEDE}`],
      ['upstream fetches (counted at the origin)', String(fetches)],
      ['upstream fetches (pixproxy upstream_fetches_total)', String(upstreamMetric)],
      ['transforms (pixproxy transforms_total)', String(transforms)],
      ['lone request (median of 3 new sources)', `${fmtMs(loneMs)} ms`],
      ['stampede latency p50 / p99 / slowest', `${fmtMs(pct(times, 50))} / ${fmtMs(pct(times, 99))} / ${fmtMs(slowest)} ms (all ${STAMPEDE} done in ${fmtMs(wallMs)} ms)`],
    );
    result.memory = { peakRssMb: peakRssMb(pix.proc.pid), l1BudgetMb: DEFAULT_L1_MB };
    const allOk = ok === STAMPEDE;
    result.targets.push(
      { target: 'stampede: 1 upstream fetch', measured: String(fetches), met: allOk ? fetches === 1 : false },
      { target: 'stampede: 1 transform', measured: String(transforms), met: allOk ? transforms === 1 : false },
      { target: 'stampede: slowest ≤ 1.5× lone request', measured: `${fmtMs(slowest)} / ${fmtMs(loneMs)} ms = ${fmtRatio(rel)}`, met: allOk && rel !== null ? rel <= 1.5 : false },
    );
    if (!allOk) result.notes.push(`${STAMPEDE - ok} of the ${STAMPEDE} requests failed.`);
    return result;
  } finally {
    agent.destroy();
    await pix?.stop();
  }
}

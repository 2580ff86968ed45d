// The bounded URL fuzz run of `npm test`: a fixed seed, a few thousand URLs over both
// dialects against real servers in child processes (harness.ts). `npm run fuzz` runs long ones.
import { describe, expect, it } from 'vitest';
import { runFuzz } from './harness.js';

const SEED = 20260901;
const URLS = 3000;

describe('URL fuzz (fixed seed)', () => {
  it(`${URLS} generated URLs: no 5xx but 502/503/504, valid images on 200, in time, servers alive`, async () => {
    const result = await runFuzz({ seed: SEED, urls: URLS });
    const failures = result.failures.map((f) => `${f.url}\n  ${f.why}${f.logs.map((l) => `\n  ${l}`).join('')}`);
    expect(failures, result.report ?? '').toEqual([]);
    expect(result.alive).toBe(true);
    expect(result.sent).toBeGreaterThanOrEqual(URLS);
    // The grammar must keep reaching the pipeline, not only the parsers' refusals.
    expect(result.statuses.get(200) ?? 0).toBeGreaterThan(URLS / 10);
  }, 240_000);
});

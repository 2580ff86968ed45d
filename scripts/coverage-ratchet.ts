/**
 * Raises the coverage floor (coverage-floor.json, which vitest.config.ts hands to vitest as
 * `coverage.thresholds`) to the figures of the last `npm test` (coverage/coverage-summary.json),
 * rounded down to an integer, less MARGIN; a figure that went down leaves its floor where it is. So the floor
 * only goes up: `npm test` fails when coverage falls under it, and this script is run after a
 * change that raised it.
 *
 *   npm test && npm run coverage:ratchet
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const METRICS = ['lines', 'statements', 'functions', 'branches'] as const;
export type Metric = (typeof METRICS)[number];
export type Floor = Record<Metric, number>;

const FLOOR_PATH = fileURLToPath(new URL('../coverage-floor.json', import.meta.url));
const SUMMARY_PATH = fileURLToPath(new URL('../coverage/coverage-summary.json', import.meta.url));

/**
 * Points under the measured figure the floor stays. The tests of the Debian tools' formats and
 * of Swift (ffmpeg, libheif, SAIO: scripts/ci-packages.txt) skip where the tools are missing,
 * and `npm test` must pass there too: without them the figures measured 2–3 points lower.
 */
export const MARGIN = 4;

/** The new floor: per metric the larger of the old floor and the measured percentage rounded down, less MARGIN. */
export function ratchet(floor: Floor, measured: Floor): Floor {
  const next = { ...floor };
  for (const m of METRICS) next[m] = Math.max(floor[m], Math.floor(measured[m]) - MARGIN);
  return next;
}

/** The totals of an istanbul json-summary report (`{ total: { lines: { pct } … } }`). */
export function totals(summary: unknown): Floor {
  const total = (summary as { total?: Record<string, { pct?: unknown }> }).total;
  const out = {} as Floor;
  for (const m of METRICS) {
    const pct = total?.[m]?.pct;
    if (typeof pct !== 'number') throw new Error(`coverage summary has no total ${m} percentage`);
    out[m] = pct;
  }
  return out;
}

function main(): void {
  let summary: unknown;
  try {
    summary = JSON.parse(readFileSync(SUMMARY_PATH, 'utf8'));
  } catch {
    console.error(`coverage:ratchet: no ${SUMMARY_PATH}: run \`npm test\` (or \`npx vitest run --coverage\`) first`);
    process.exit(1);
  }
  const floor = JSON.parse(readFileSync(FLOOR_PATH, 'utf8')) as Floor;
  const measured = totals(summary);
  const next = ratchet(floor, measured);
  for (const m of METRICS) console.log(`${m.padEnd(10)} measured ${measured[m].toFixed(2)} %  floor ${floor[m]} → ${next[m]}`);
  writeFileSync(FLOOR_PATH, `${JSON.stringify(next, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();

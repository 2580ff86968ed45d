/**
 * `npm run fuzz`: the long URL fuzz run (test/fuzz/harness.ts) against real servers started
 * as child processes. Not part of `npm test`, which runs a short one with a fixed seed.
 *
 *   npm run fuzz                          # 100,000 URLs, random seed (printed)
 *   npm run fuzz -- --seed 123 --urls 5000
 *   FUZZ_SEED=123 FUZZ_URLS=5000 npm run fuzz
 *
 * Exits 1 when any answer broke the rules, printing each failing URL with the server's stack.
 */
import { runFuzz } from '../test/fuzz/harness.js';

function option(name: string, env: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  const raw = i !== -1 ? process.argv[i + 1] : process.env[env];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`--${name} / ${env}: expected an integer, got ${JSON.stringify(raw)}`);
  return n;
}

const seed = option('seed', 'FUZZ_SEED') ?? Math.floor(Math.random() * 2 ** 31);
const urls = option('urls', 'FUZZ_URLS') ?? 100_000;
const batch = option('batch', 'FUZZ_BATCH') ?? 6;
process.stdout.write(`fuzz: seed ${seed}, ${urls} URLs, batches of ${batch} (rerun with --seed ${seed})\n`);

const started = Date.now();
let last = 0;
const result = await runFuzz({
  seed,
  urls,
  batch,
  progress(sent, statuses) {
    if (Date.now() - last < 5000) return;
    last = Date.now();
    const rate = Math.round(sent / ((Date.now() - started) / 1000));
    process.stdout.write(`  ${sent} sent (${rate}/s) ${JSON.stringify(Object.fromEntries(statuses))}\n`);
  },
});
process.stdout.write(`fuzz: ${result.sent} URLs in ${Math.round((Date.now() - started) / 1000)} s, statuses ${JSON.stringify(Object.fromEntries(result.statuses))}, servers ${result.alive ? 'alive' : 'NOT alive'}\n`);
for (const f of result.failures) process.stdout.write(`\nFAIL ${f.url}\n  ${f.why}\n${f.logs.map((l) => `  ${l}`).join('\n')}\n`);
if (result.report) process.stdout.write(`\n${result.report}\n`);
process.stdout.write(`\nseed ${seed}\n`);
process.exit(result.failures.length > 0 || !result.alive ? 1 : 0);

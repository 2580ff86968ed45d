import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../src/config/index.js';
import { defaultOptions } from '../src/options.js';
import { createProcessor } from '../src/processing/pipeline.js';
import { applyEncoder } from '../src/processing/format.js';
sharp.cache(false);
const src = readFileSync('/work/wt/bench/bench/.cache/src/big.jpg');
const config = loadConfig({});
const proc = createProcessor(config);
const o = { ...defaultOptions(config), width: 300, height: 300, resizingType: 'fit' as const };
async function bare() { return sharp(src).rotate().resize(300, 300, { fit: 'inside' }).jpeg({ quality: 80 }).toBuffer(); }
async function bare2() { return applyEncoder(sharp(src).rotate().resize(300, 300, { fit: 'inside' }), { format: 'jpeg', quality: 80, animation: null }, config).toBuffer(); }
async function ours() { return (await proc(src, o, {})).data; }
async function probe() { return sharp(src).metadata(); }
async function time(name: string, f: () => Promise<unknown>, n = 12) {
  await f(); await f();
  const ts: number[] = [];
  for (let i = 0; i < n; i++) { const t = performance.now(); await f(); ts.push(performance.now() - t); }
  ts.sort((a, b) => a - b);
  console.log(name, 'median', ts[Math.floor(n / 2)]!.toFixed(1), 'ms');
}
await time('bare', bare); await time('bare+ourEncoder', bare2); await time('ours', ours); await time('probe', probe);
await time('bare', bare); await time('ours', ours);

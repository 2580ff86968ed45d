// The fuzz grammar covers the option table: an option without shaped arguments would be
// fuzzed with booleans only, and a new option must not slip past the fuzzer that way.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPTION_TABLE } from '../../src/dialects/imgproxy/option-table.js';
import { imgproxyPath, optionSlots, type GrammarContext } from './grammar.js';

const ctx: GrammarContext = { origin: 'http://127.0.0.1:9', files: ['/a.jpg'], key: Buffer.from('k'), salt: Buffer.from('s'), encKey: Buffer.alloc(16, 1), presets: ['p'], watermarkUrl: 'http://127.0.0.1:9/wm.png' };

describe('fuzz grammar', () => {
  it('has argument slots for every option of the table', () => {
    const slots = optionSlots(ctx);
    expect(OPTION_TABLE.map((o) => o.name).filter((n) => slots[n] === undefined)).toEqual([]);
  });

  it('uses every option name and alias', () => {
    const seen = new Set(fc.sample(imgproxyPath(ctx), { seed: 1, numRuns: 4000 }).flatMap((p) => p.split('/').map((seg) => seg.split(':')[0])));
    const missing = OPTION_TABLE.flatMap((o) => [o.name, ...o.aliases]).filter((n) => !seen.has(n));
    expect(missing).toEqual([]);
  });
});

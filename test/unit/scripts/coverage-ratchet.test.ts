// The coverage floor only goes up: scripts/coverage-ratchet.ts raises each figure to the measured
// one rounded down (less a margin for machines without the optional tools) and never lowers it; the committed floor is whole numbers vitest can enforce.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MARGIN, METRICS, ratchet, totals } from '../../../scripts/coverage-ratchet.js';

describe('coverage ratchet', () => {
  it('raises a floor to the measured figure rounded down, less the margin', () => {
    const floor = { lines: 70, statements: 70, functions: 60, branches: 50 };
    expect(ratchet(floor, { lines: 72.9 + MARGIN, statements: 70.99 + MARGIN, functions: 61.01 + MARGIN, branches: 50.5 + MARGIN })).toEqual({
      lines: 72,
      statements: 70,
      functions: 61,
      branches: 50,
    });
  });

  it('never lowers a floor', () => {
    const floor = { lines: 70, statements: 70, functions: 60, branches: 50 };
    expect(ratchet(floor, { lines: 12, statements: 69.9, functions: 0, branches: 49 })).toEqual(floor);
  });

  it('reads the totals of a json-summary report and refuses one without them', () => {
    const pct = (n: number) => ({ total: 1, covered: 1, skipped: 0, pct: n });
    expect(totals({ total: { lines: pct(1), statements: pct(2), functions: pct(3), branches: pct(4) } })).toEqual({
      lines: 1,
      statements: 2,
      functions: 3,
      branches: 4,
    });
    expect(() => totals({ total: { lines: pct(1) } })).toThrow(/statements/);
  });

  it('keeps a committed floor of whole percentages', () => {
    const floor = JSON.parse(readFileSync(new URL('../../../coverage-floor.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(floor).sort()).toEqual([...METRICS].sort());
    for (const m of METRICS) expect(Number.isInteger(floor[m]) && (floor[m] as number) >= 0 && (floor[m] as number) <= 100).toBe(true);
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { knownVariables } from '../../../src/config/index.js';
import { bool, str } from '../../../src/config/fields.js';
import { BEGIN, END, renderBlock, undescribed } from '../../../scripts/config-table.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

describe('README configuration reference', () => {
  it('is the generated block for the current schema (run `npx tsx scripts/config-table.ts --write`)', () => {
    const a = readme.indexOf(BEGIN);
    const b = readme.indexOf(END);
    expect(a).toBeGreaterThan(0);
    expect(readme.slice(a, b + END.length)).toBe(renderBlock());
  });

  it('names every variable the schema reads', () => {
    for (const v of knownVariables()) expect(readme.includes(`\`${v}\``), v).toBe(true);
  });

  it('describes every variable (the Meaning column)', () => {
    expect(undescribed()).toEqual([]);
  });

  it('finds a field without a description', () => {
    const sections = { a: { x: str('X_DESCRIBED').describe('Something.'), y: bool('Y_BARE', false) } };
    expect(undescribed(sections)).toEqual(['Y_BARE']);
  });
});

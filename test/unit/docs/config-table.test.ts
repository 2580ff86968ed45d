// docs/configuration.md is generated from the schema: current, complete, every variable described.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { knownVariables } from '../../../src/config/index.js';
import { bool, str } from '../../../src/config/fields.js';
import { DOC_PATH, renderDoc, undescribed } from '../../../scripts/config-table.js';

const doc = readFileSync(DOC_PATH, 'utf8');

describe('docs/configuration.md', () => {
  it('is what the generator writes for the current schema (run `npx tsx scripts/config-table.ts --write`)', () => {
    expect(doc).toBe(renderDoc());
  });

  it('names every variable the schema reads', () => {
    for (const v of knownVariables()) expect(doc.includes(`\`${v}\``), v).toBe(true);
  });

  it('describes every variable (the Meaning column)', () => {
    expect(undescribed()).toEqual([]);
  });

  it('finds a field without a description', () => {
    const sections = { a: { x: str('X_DESCRIBED').describe('Something.'), y: bool('Y_BARE', false) } };
    expect(undescribed(sections)).toEqual(['Y_BARE']);
  });
});

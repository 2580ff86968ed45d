// docs/processing-options.md is generated from the parser's option table: every option
// documented, listed with all its aliases, and the file current.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTION_TABLE } from '../../../src/dialects/imgproxy/option-table.js';
import { INFO_OPTIONS } from '../../../src/processing/info-options.js';
import { DOC_PATH, INFO_HEADING, renderDoc, undocumented } from '../../../scripts/option-table.js';

const doc = readFileSync(DOC_PATH, 'utf8');
const infoStart = doc.indexOf(INFO_HEADING);
const rows = (section: 'processing' | 'info'): string[] =>
  (section === 'info' ? doc.slice(infoStart) : doc.slice(0, infoStart)).split('\n').filter((l) => l.startsWith('| `'));
const rowFor = (name: string, section: 'processing' | 'info'): string | undefined => rows(section).find((r) => r.startsWith(`| \`${name}\` |`));

describe('docs/processing-options.md', () => {
  it('every option in the table has documentation', () => {
    expect(undocumented()).toEqual([]);
  });

  it.each(OPTION_TABLE.map((s) => [s.name, s.aliases] as const))('lists %s with its aliases', (name, aliases) => {
    const row = rowFor(name, 'processing');
    expect(row, `no row for ${name}: run npx tsx scripts/option-table.ts --write`).toBeDefined();
    for (const a of aliases) expect(row).toContain(`\`${a}\``);
    expect(row).toMatch(/\| (working|partial|not supported)(: [^|]+)? \|$/);
  });

  it.each(INFO_OPTIONS.map((s) => [s.name, s.aliases] as const))('lists the /info option %s with its aliases', (name, aliases) => {
    const row = rowFor(name, 'info');
    expect(row, `no /info row for ${name}`).toBeDefined();
    for (const a of aliases) expect(row).toContain(`\`${a}\``);
  });

  it('is what the generator writes (npx tsx scripts/option-table.ts --write)', () => {
    expect(infoStart).toBeGreaterThan(0);
    expect(doc).toBe(renderDoc());
  });
});

// The README's option tables are generated from the parser's option table: every option
// must be documented, listed with all its aliases, and the README block must be current.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPTION_TABLE } from '../../../src/dialects/imgproxy/option-table.js';
import { INFO_OPTIONS } from '../../../src/processing/info-options.js';
import { README_PATH, renderBlock, undocumented, updateReadme } from '../../../scripts/option-table.js';

const readme = readFileSync(README_PATH, 'utf8');
const rows = readme.split('\n').filter((l) => l.startsWith('| `'));

function rowFor(name: string, section: 'processing' | 'info'): string | undefined {
  const infoStart = readme.indexOf('### /info options');
  const candidates = rows.filter((r) => (section === 'info') === readme.indexOf(r) > infoStart);
  return candidates.find((r) => r.startsWith(`| \`${name}\` |`));
}

describe('README option tables', () => {
  it('every option in the table has documentation', () => {
    expect(undocumented()).toEqual([]);
  });

  it.each(OPTION_TABLE.map((s) => [s.name, s.aliases] as const))('lists %s with its aliases', (name, aliases) => {
    const row = rowFor(name, 'processing');
    expect(row, `README.md has no row for ${name}: run npx tsx scripts/option-table.ts --write`).toBeDefined();
    for (const a of aliases) expect(row).toContain(`\`${a}\``);
    expect(row).toMatch(/\| (working|partial|not supported)(: [^|]+)? \|$/);
  });

  it.each(INFO_OPTIONS.map((s) => [s.name, s.aliases] as const))('lists the /info option %s with its aliases', (name, aliases) => {
    const row = rowFor(name, 'info');
    expect(row, `README.md has no /info row for ${name}`).toBeDefined();
    for (const a of aliases) expect(row).toContain(`\`${a}\``);
  });

  it('the generated block is current (npx tsx scripts/option-table.ts --write)', () => {
    expect(readme).toContain(renderBlock());
    expect(updateReadme(readme)).toBe(readme);
  });
});

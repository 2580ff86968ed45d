// docs/configuration.md is generated from the schema: current, complete, every variable described,
// every variable imgproxy and PreviewProxy read given a status.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { knownVariables } from '../../../src/config/index.js';
import { bool, str } from '../../../src/config/fields.js';
import { imgproxyVariables, previewproxyVariables } from '../../../src/config/peer-variables.js';
import { DOC_PATH, peerRows, renderDoc, undescribed } from '../../../scripts/config-table.js';

const doc = readFileSync(DOC_PATH, 'utf8');

describe('docs/configuration.md', () => {
  it('is what the generator writes for the current schema (run `npx tsx scripts/config-table.ts --write`)', () => {
    expect(doc).toBe(renderDoc());
  });

  it('names every variable the schema reads or refuses', () => {
    for (const v of knownVariables()) expect(doc.includes(`\`${v}\``), v).toBe(true);
  });

  it('gives every peer variable a status row', () => {
    for (const v of [...imgproxyVariables, ...previewproxyVariables]) expect(doc).toMatch(new RegExp(`\\| \`${v}\` \\| (applied|refused) \\|`));
  });

  it('refuses to render a peer variable that is neither applied nor refused', () => {
    expect(() => peerRows(['IMGPROXY_TTL', 'IMGPROXY_NOT_A_THING'])).toThrow(/IMGPROXY_NOT_A_THING/);
    expect(peerRows(['IMGPROXY_TTL', 'PP_FETCH_TIMEOUT_SECS', 'IMGPROXY_SENTRY_DSN'])).toEqual([
      '| `IMGPROXY_TTL` | applied | – |',
      '| `PP_FETCH_TIMEOUT_SECS` | applied | – |',
      expect.stringMatching(/^\| `IMGPROXY_SENTRY_DSN` \| refused \| Accepted: unset or empty; Sentry .*\. \|$/),
    ]);
  });

  it('describes every variable (the Meaning column)', () => {
    expect(undescribed()).toEqual([]);
  });

  it('finds a field without a description', () => {
    const sections = { a: { x: str('X_DESCRIBED').describe('Something.'), y: bool('Y_BARE', false) } };
    expect(undescribed(sections)).toEqual(['Y_BARE']);
  });
});

// Comments cite sources a contributor can open: an RFC, imgproxy's docs or source, PreviewProxy's
// README, docs or source, each with its link. Internal research notes ("Seed: …", "reference
// §2.4", "peers §B.6") are not in this repository; a citation of one fails here, naming the file
// and line, so it is rewritten to quote the upstream page instead.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const FOLDERS = ['src', 'test', 'scripts', 'bench', 'deploy', 'docs'];
const TOP_FILES = ['README.md', 'CONTRIBUTING.md', 'SECURITY.md', 'vitest.config.ts'];
const SKIP = new Set(['node_modules', 'fixtures', 'results', 'reports', '.cache']);
const SELF = relative(ROOT, import.meta.filename);

/** Citations of documents outside the repository (the research notes the code was written from). */
const FOREIGN_CITATIONS: readonly RegExp[] = [
  /\bSeeds?:/,
  /\b(?:the|its) seed\b|\bseed's\b|\bseed (?:statement|document|text)s?\b/i,
  /\breference\s+(?:[\w.-]+\s+)?§/i,
  /\b(?:peers|imgproxy Pro)(?:\.md)?\s+§/i,
  /shared\/(?:seeds|reference)\b/,
];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (SKIP.has(d.name)) return [];
    const path = join(dir, d.name);
    if (d.isDirectory()) return files(path);
    return /\.(?:[cm]?ts|md)$/.test(d.name) ? [path] : [];
  });
}

function offending(text: string): number[] {
  return text
    .split('\n')
    .flatMap((line, i) => (FOREIGN_CITATIONS.some((re) => re.test(line)) ? [i + 1] : []));
}

describe('citations', () => {
  it('recognises a citation of a research note, and not a random seed or an RFC section', () => {
    for (const bad of [' * Seed: "The L1 cache stores …"', '// (reference §4.2)', '(reference previewproxy.md §2, §4)', 'peers §B.6', 'imgproxy Pro §7.1', 'as the seed says', 'shared/seeds/x.txt']) {
      expect(offending(bad), bad).toEqual([1]);
    }
    for (const ok of ['{ seed: 42, numRuns: 3000 }', 'RFC 9110 §14.2', 'ISO/IEC 18181-1 §A.2', 'the seeds every mutation starts from', "mkdtemp('pixproxy-seed-')"]) {
      expect(offending(ok), ok).toEqual([]);
    }
  });

  it('no comment or doc cites a document outside the repository', () => {
    const found = [...FOLDERS.map((f) => join(ROOT, f)).flatMap(files), ...TOP_FILES.map((f) => join(ROOT, f))]
      .map((f) => relative(ROOT, f))
      .filter((f) => f !== SELF)
      .flatMap((f) => offending(readFileSync(join(ROOT, f), 'utf8')).map((line) => `${f}:${line}`));
    expect(found, 'quote the RFC, imgproxy or PreviewProxy page with a link instead').toEqual([]);
  });
});

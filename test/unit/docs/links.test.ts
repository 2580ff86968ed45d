// Relative links in README.md, CONTRIBUTING.md and docs/*.md point at files that exist, and
// their #anchors at headings those files have (GitHub's heading slugs).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const FILES = ['README.md', 'CONTRIBUTING.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's slug: lower case, punctuation dropped (but `-` and `_`), spaces to `-`. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[`*]/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1] ?? '')));
}

function links(file: string): { target: string; anchor: string }[] {
  const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] ?? '')
    .filter((t) => !/^[a-z]+:/i.test(t))
    .map((t) => {
      const [path = '', anchor = ''] = t.split('#');
      return { target: path === '' ? join(ROOT, file) : resolve(ROOT, dirname(file), path), anchor };
    });
}

describe('documentation links', () => {
  it('finds headings the way GitHub slugs them', () => {
    expect(slug('Sources and inputs: what is refused')).toBe('sources-and-inputs-what-is-refused');
    expect(slug('`serve` and the allocator')).toBe('serve-and-the-allocator');
  });

  it.each(FILES)('%s links to files and headings that exist', (file) => {
    for (const { target, anchor } of links(file)) {
      expect(existsSync(target), `${file} → ${target}`).toBe(true);
      if (anchor !== '' && target.endsWith('.md')) expect(anchors(target).has(anchor), `${file} → ${target}#${anchor}`).toBe(true);
    }
  });
});

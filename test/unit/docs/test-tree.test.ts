// test/unit/ mirrors src/: a unit test of src/<dir>/x.ts lives in test/unit/<dir>/ (CONTRIBUTING.md,
// "A test"), so a reader finds a module's tests by its path. A folder of test/unit/ with no
// src/ folder of the same path fails here; the only others are the checks on the repository's
// other top-level folders (test/unit/docs: docs/, test/unit/deploy: deploy/, test/unit/scripts:
// scripts/) and `fixtures/` folders of test inputs.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const UNIT = join(ROOT, 'test/unit');
/** Top-level folders of the repository (not src/) whose contents test/unit/<name> checks. */
const REPOSITORY_FOLDERS = ['docs', 'deploy', 'scripts'];

function folders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'fixtures' && d.name !== 'node_modules')
    .flatMap((d) => {
      const path = join(dir, d.name);
      return [path, ...folders(path)];
    });
}

/** The folder a test folder mirrors: src/<path>, or <path> itself under a repository folder. */
function counterpart(path: string): string | undefined {
  const rel = relative(UNIT, path);
  const top = rel.split('/')[0] ?? '';
  const candidates = [join(ROOT, 'src', rel), ...(REPOSITORY_FOLDERS.includes(top) ? [join(ROOT, rel)] : [])];
  return candidates.find((c) => existsSync(c) && statSync(c).isDirectory());
}

describe('test tree', () => {
  it('finds the folders it checks, and would refuse one with no counterpart', () => {
    const all = folders(UNIT).map((p) => relative(UNIT, p));
    expect(all).toEqual(expect.arrayContaining(['processing', 'processing/codecs', 'dialects/imgproxy', 'docs']));
    expect(counterpart(join(UNIT, 'ops'))).toBeUndefined();
    expect(counterpart(join(UNIT, 'docs/ops'))).toBeUndefined();
  });

  it.each(folders(UNIT).map((p) => relative(UNIT, p)))('test/unit/%s mirrors a folder of src/ (or of the repository)', (rel) => {
    expect(counterpart(join(UNIT, rel)), `test/unit/${rel} has no src/${rel}: move its tests next to the module they test`).toBeDefined();
  });
});

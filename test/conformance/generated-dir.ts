/**
 * A folder of generated test inputs, written once per run: into `$TMPDIR/<prefix>-<hash>`, the
 * hash taken over the generators' own source, so the forks vitest runs share one copy and a
 * changed generator makes a fresh one. Written into a staging folder and renamed into place
 * with a `.complete` marker, so no fork ever reads a half-written set.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function generatedDir(prefix: string, generators: readonly string[], build: (staging: string) => Promise<void>): Promise<string> {
  const hash = createHash('sha256');
  for (const file of generators) hash.update(readFileSync(file));
  const version = hash.digest('hex').slice(0, 12);
  const root = join(tmpdir(), `${prefix}-${version}`);
  if (existsSync(join(root, '.complete'))) return root;
  const staging = await mkdtemp(join(tmpdir(), `${prefix}-staging-`));
  try {
    await build(staging);
    await writeFile(join(staging, '.complete'), version);
    // Another fork may have finished first: its copy is as good as ours.
    await rename(staging, root).catch(() => rm(staging, { recursive: true, force: true }));
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  if (!existsSync(join(root, '.complete'))) throw new Error(`fixtures were not written to ${root}`);
  return root;
}

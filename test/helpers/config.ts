/**
 * Configuration helpers for tests: the problems an environment makes loadConfig report, and a
 * value each unsupported peer variable refuses (so tests can set every one of them without a
 * hand-kept list).
 */
import { ConfigError, loadConfig } from '../../src/config/index.js';
import type { Unsupported } from '../../src/config/unsupported.js';

const CANDIDATES = ['true', 'false', '0', '1', '7', '12345', 'example', 'production', 'pretty', 'a,b'];

/** A value the entry refuses on an otherwise default configuration. */
export function refusedValue(u: Unsupported): string {
  const base = loadConfig({});
  const v = CANDIDATES.find((c) => !u.accepts(c, base));
  if (v === undefined) throw new Error(`no refused value found for ${u.name}`);
  return v;
}

/** The problems loadConfig reports for `env` (none when it loads). */
export function configProblems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

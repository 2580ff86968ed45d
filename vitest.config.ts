import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// The coverage floor `npm test` enforces (`vitest run --coverage`): today's figures rounded
// down, raised by `npm run coverage:ratchet` (scripts/coverage-ratchet.ts), never lowered.
const floor = JSON.parse(readFileSync(new URL('./coverage-floor.json', import.meta.url), 'utf8')) as Record<
  'lines' | 'statements' | 'functions' | 'branches',
  number
>;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Its own run: `npm run test:cluster` (test/cluster/vitest.config.ts).
    exclude: ['test/cluster/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
    coverage: {
      // Off unless asked for (`--coverage`): a run of one folder would fall under the floor.
      provider: 'v8',
      // .ts only: the two CommonJS entry files (cli/bin.cts, threadpool.cts) are not parsed by
      // the coverage remapper, and the CLI tests run them as child processes anyway.
      include: ['src/**/*.ts'],
      // The figures are written even when a test fails, so a failing run still shows them.
      reportOnFailure: true,
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      thresholds: floor,
    },
  },
});

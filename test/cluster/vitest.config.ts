// `npm run test:cluster`: the cluster test alone (several processes, nginx, a Swift SAIO),
// one file at a time; `npm test` leaves it out (vitest.config.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});

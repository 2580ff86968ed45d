#!/usr/bin/env node
/**
 * Entry of the `pixproxy` command (package.json `bin`). CommonJS on purpose: Node reads this
 * file synchronously, so ../threadpool.cts sizes libuv's thread pool before the ES module
 * loader (whose file reads start the pool) runs. Everything else is in ./main.ts.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- must run before any ES module loads (see above)
require('../threadpool.cjs');

import('./main.js').then(
  (cli) => cli.run(process.argv.slice(2)),
  (err: unknown) => {
    process.stderr.write(`pixproxy: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);

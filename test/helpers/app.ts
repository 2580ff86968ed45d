/**
 * Starts a real pixproxy app on 127.0.0.1:0 with a given environment (no .env file), with a
 * temporary cache directory unless one is given. Returns its base URL and a stop function.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { silentLogger, type Logger } from '../../src/observability/logger.js';

export interface RunningApp {
  app: App;
  url: string;
  cacheDir: string;
  stop(opts?: { keepCache?: boolean }): Promise<void>;
}

/** `opts.logger` replaces the silent logger (tests that check what is logged). */
export async function startApp(env: Record<string, string> = {}, opts: { logger?: Logger } = {}): Promise<RunningApp> {
  const cacheDir = env.PP_CACHE_DIR ?? (await mkdtemp(join(tmpdir(), 'pixproxy-test-')));
  const config = loadConfig({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', PP_CACHE_DIR: cacheDir, PP_CACHE_CLEANUP_INTERVAL_SECS: '0', ...env });
  const app = await createApp(config, { logger: opts.logger ?? silentLogger(), defaultMetrics: false });
  const { port } = await app.listen(0, '127.0.0.1');
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    cacheDir,
    async stop(stopOpts = {}) {
      await app.close();
      if (!stopOpts.keepCache && env.PP_CACHE_DIR === undefined) await rm(cacheDir, { recursive: true, force: true });
    },
  };
}

/** Runs `fn` against an app started with `env`, stopping it afterwards whatever happens. */
export async function withApp(env: Record<string, string>, fn: (app: RunningApp) => Promise<void>): Promise<void> {
  const app = await startApp(env);
  try {
    await fn(app);
  } finally {
    await app.stop();
  }
}

/**
 * Process entry: config → app → listen; SIGTERM/SIGINT stop accepting and let in-flight
 * requests finish. Exit codes: 0 clean stop, 1 startup failure (bad configuration names
 * the variable and what it accepts).
 */
import { ConfigError, loadConfig } from './config/index.js';
import { createApp } from './app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pixproxy: invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const app = await createApp(config);
  await app.listen();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.ctx.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    app.close().then(() => process.exit(0), (err: unknown) => {
      app.ctx.logger.error({ err }, 'error during shutdown');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`pixproxy: invalid configuration: ${err.message}\n`);
  else process.stderr.write(`pixproxy: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});

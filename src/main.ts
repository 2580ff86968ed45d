/**
 * Process entry: config → app → listen; SIGTERM/SIGINT stop accepting and let in-flight
 * requests finish. Exit codes: 0 clean stop, 1 startup failure (bad configuration names
 * the variable and what it accepts).
 *
 * PIXPROXY_PROCESSES > 1 forks that many workers with node:cluster; they share the listen
 * socket and the L2 (each keeps its own L1 and single-flight). Worth it only when one
 * process's event loop is the bottleneck (cache-hit heavy traffic on many cores): image work
 * already spreads over libuv's thread pool.
 */
import './threadpool.cjs';
import cluster from 'node:cluster';
import { ConfigError, loadConfig, type Config } from './config/index.js';
import { createApp } from './app.js';

function fail(err: unknown): never {
  if (err instanceof ConfigError) process.stderr.write(`pixproxy: invalid configuration: ${err.message}\n`);
  else process.stderr.write(`pixproxy: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
}

async function serve(config: Config): Promise<void> {
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

function supervise(processes: number): void {
  let stopping = false;
  for (let i = 0; i < processes; i++) cluster.fork();
  cluster.on('exit', (worker, code) => {
    if (!stopping && code !== 0) {
      process.stderr.write(`pixproxy: worker ${worker.process.pid} exited with ${code}; restarting\n`);
      cluster.fork();
    }
    if (stopping && Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  fail(err);
}
if (config.server.processes > 1 && cluster.isPrimary) supervise(config.server.processes);
else serve(config).catch(fail);

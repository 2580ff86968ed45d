/**
 * Process entry: config → app → listen; SIGTERM/SIGINT stop accepting and let in-flight
 * requests finish. Exit codes: 0 clean stop, 1 startup failure. A bad configuration is
 * reported whole before anything starts: every problem on its own line (each naming the
 * variable, what it accepts and what it got), after the warnings; a good one logs its
 * warnings (unknown or deprecated names) once, one log line each.
 *
 * PIXPROXY_PROCESSES > 1 forks that many workers with node:cluster; they share the listen
 * socket and the L2 (each keeps its own L1 and single-flight). Worth it only when one
 * process's event loop is the bottleneck (cache-hit heavy traffic on many cores): image work
 * already spreads over libuv's thread pool.
 */
import './threadpool.cjs';
import cluster from 'node:cluster';
import { ConfigError, inspectConfig, readEnv, type Config, type ConfigReport } from './config/index.js';
import { createApp } from './app.js';

function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    const [only, ...more] = err.problems;
    const text = more.length === 0 ? ` ${only ?? err.message}` : err.problems.map((p) => `\n  - ${p}`).join('');
    process.stderr.write(`pixproxy: invalid configuration:${text}\n`);
  } else {
    process.stderr.write(`pixproxy: failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  }
  process.exit(1);
}

async function serve(config: Config, warnings: readonly string[]): Promise<void> {
  // The app builds its own log output (IMGPROXY_LOG_FORMAT, syslog), so the warnings go
  // through it, in the operator's format.
  const app = await createApp(config);
  if (cluster.isPrimary) for (const w of warnings) app.ctx.logger.warn({ module: 'config' }, w);
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

let report: ConfigReport;
try {
  report = inspectConfig(readEnv());
} catch (err) {
  fail(err);
}
const config = report.config;
// Cluster workers read the same environment: the primary alone speaks about it.
if (config === null) {
  for (const w of report.warnings) process.stderr.write(`pixproxy: warning: ${w}\n`);
  fail(new ConfigError(report.errors));
}
if (config.server.processes > 1 && cluster.isPrimary) {
  // The primary serves nothing and has no log output of its own: warnings go to stderr.
  for (const w of report.warnings) process.stderr.write(`pixproxy: warning: ${w}\n`);
  supervise(config.server.processes);
} else {
  serve(config, report.warnings).catch(fail);
}

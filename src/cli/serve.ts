/**
 * `pixproxy serve`: runs the server (src/main.ts) with the allocator settings of
 * ./allocator.ts. When they are already in effect (a container sets MALLOC_ARENA_MAX, or this
 * is the child started below) the server runs in this process; otherwise this process starts
 * one child with them, passes SIGTERM/SIGINT/SIGHUP on and exits with its exit code.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { allocatorPlan } from './allocator.js';
import { ConfigError, configFromEnvironment, parse, type Command } from './command.js';

function onGlibc(): boolean {
  const report = process.report.getReport() as { header?: { glibcVersionRuntime?: string } };
  return typeof report.header?.glibcVersionRuntime === 'string';
}

function runChild(env: Readonly<Record<string, string>>): Promise<number> {
  const script = process.argv[1] ?? '';
  const child = spawn(process.execPath, [...process.execArgv, script, 'serve'], { env: { ...process.env, ...env }, stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`pixproxy: cannot start the server process: ${err.message}\n`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
}

export const command: Command = {
  usage: 'pixproxy serve\n\nRuns the image server as `npm start` does. Configuration: environment variables and ./.env (see docs/configuration.md).',
  async run(args) {
    parse(args, {}, { min: 0, max: 0 });
    let malloc: 'glibc' | 'jemalloc' = 'glibc';
    try {
      malloc = configFromEnvironment().server.malloc;
    } catch (err) {
      // The server reports it, with the same exit code, when it loads the configuration.
      if (!(err instanceof ConfigError)) throw err;
    }
    const plan = allocatorPlan({ env: process.env, malloc, glibc: onGlibc(), exists: existsSync });
    if (plan.warning) process.stderr.write(`pixproxy: ${plan.warning}\n`);
    if (Object.keys(plan.env).length > 0) return runChild(plan.env);
    await import('../main.js');
    // main.js owns the process from here (signals, exit codes): never resolve.
    return new Promise<number>(() => {});
  },
};

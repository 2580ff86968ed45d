/**
 * Child processes of a bench run: spawn, wait until an HTTP endpoint answers, stop by PID.
 * Every process started here is registered so that an error or Ctrl-C still stops it
 * (SIGTERM, then SIGKILL after a grace period); nothing is ever killed by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { request } from 'node:http';

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Last lines of stdout+stderr, for error messages. */
  readonly output: string[];
  readonly exited: Promise<number | null>;
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Proc>();

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Keep the child's output in memory (last 200 lines); default true. */
  capture?: boolean;
}

export function spawnProc(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Proc {
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const output: string[] = [];
  const keep = (d: Buffer) => {
    if (opts.capture === false) return;
    for (const line of d.toString().split('\n')) if (line) output.push(line);
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  const pid = child.pid;
  const proc: Proc = {
    name,
    pid,
    child,
    output,
    exited,
    async stop(graceMs = 5000) {
      running.delete(proc);
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalPid(pid, 'SIGTERM');
      const timer = setTimeout(() => signalPid(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Stops every process still registered (used on error, SIGINT and at the end). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(3000)));
}

/** Last-resort synchronous cleanup for `process.on('exit')`. */
export function killAllNow(): void {
  for (const p of running) signalPid(p.pid, 'SIGKILL');
  running.clear();
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `GET url` until it answers with a status < 500, the process exits, or the timeout passes. */
export async function waitForHttp(proc: Proc, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void proc.exited.then((c) => {
    exitCode = c;
  });
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`${proc.name} exited (${exitCode}) before answering:\n${proc.output.slice(-20).join('\n')}`);
    if (await answers(url)) return;
    await sleep(100);
  }
  throw new Error(`${proc.name} did not answer ${url} within ${timeoutMs} ms:\n${proc.output.slice(-20).join('\n')}`);
}

function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 500);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.end();
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs a command to completion, collecting stdout and stderr. */
export async function runCommand(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnProc(name, cmd, args, { ...opts, capture: false });
  let stdout = '';
  let stderr = '';
  proc.child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await proc.exited;
  return { code, stdout, stderr };
}

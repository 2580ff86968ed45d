/**
 * Runs a decoding tool (ffmpeg, ffprobe) as a child process under the request's budget: its
 * stdout is collected up to a bound, and the process is killed (SIGKILL: a decoder stuck in
 * a frame does not read signals it could handle) when the request's signal aborts, its
 * deadline passes or its output grows past the bound. Nothing is read from stdin.
 *
 * Which tools exist is decided once at startup (`findTool`): a name is looked up in PATH as
 * execvp would, a path is checked as it is, so a missing binary is one log line at startup
 * and a clear error per request, not a spawn failure each time.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ProxyError, type ErrorCode } from '../../errors.js';
import { checkAbort } from '../run.js';

export interface ToolOptions {
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
  /** Bytes of stdout kept at most; past it the tool is killed and the run fails. */
  readonly maxStdout: number;
  /** The error code of a failure of the tool itself (it is missing, it ran out of output room). */
  readonly failure: ErrorCode;
}

export interface ToolResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  /** The start of stderr, for the log. */
  readonly stderr: string;
}

const STDERR_KEPT = 4096;

/** The executable `bin` names (a path, or a name searched in PATH), or null. */
export function findTool(bin: string, path = process.env.PATH ?? ''): string | null {
  const runnable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (bin === '') return null;
  if (bin.includes('/')) return runnable(bin) ? bin : null;
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, bin);
    if (runnable(p)) return p;
  }
  return null;
}

export function runTool(bin: string, args: readonly string[], o: ToolOptions): Promise<ToolResult> {
  checkAbort(o.signal);
  const left = o.deadline - Date.now();
  if (!(left > 0)) return Promise.reject(new ProxyError('TIMEOUT', 'decoding reached the request deadline'));
  return new Promise<ToolResult>((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: {} });
    const out: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failed: unknown = null;
    const stop = (why: unknown): void => {
      failed ??= why;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(new ProxyError('TIMEOUT', `${bin}: stopped at the request deadline`)), left);
    const onAbort = (): void => {
      try {
        checkAbort(o.signal);
      } catch (err) {
        stop(err);
      }
    };
    o.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > o.maxStdout) stop(new ProxyError(o.failure, `${bin}: output over ${o.maxStdout} bytes`));
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_KEPT) stderr += chunk.toString('utf8', 0, STDERR_KEPT - stderr.length);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      failed ??= new ProxyError(o.failure, err.code === 'ENOENT' ? `${bin} not found` : `${bin}: ${err.message}`, { cause: err });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (failed !== null) reject(failed);
      else resolve({ code, stdout: Buffer.concat(out, size), stderr: stderr.trim() });
    });
  });
}

/**
 * Decoders that are command-line tools from Debian packages (libheif's `heif-convert`): checked
 * once by running them (the registry names a missing one at startup, and its format is then
 * refused with that reason), run in a private temporary folder that is removed afterwards, fed a file
 * there and never a URL, without a shell, and killed when the request is aborted or reaches
 * its deadline.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyError } from '../../errors.js';
import { checkAbort } from '../run.js';

export interface ToolCheck {
  /** The tool ran and its answer held what it must (a decoder plugin, say). */
  readonly ok: boolean;
  /** Why not, for the startup log and the error a refused source gets. */
  readonly reason?: string | undefined;
}

const checked = new Map<string, ToolCheck>();

/**
 * Runs `name args` once (cached) and looks for `expect` in what it prints: whether the tool is
 * installed, and able to do the job. PATH is the process's own, as the child inherits it.
 */
export function checkTool(name: string, args: readonly string[], expect: RegExp, install: string): ToolCheck {
  const key = `${name} ${args.join(' ')}`;
  const cached = checked.get(key);
  if (cached) return cached;
  const r = spawnSync(name, args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
  let result: ToolCheck;
  if (r.error) result = { ok: false, reason: `${name} not found (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}); install ${install}` };
  else if (!expect.test(`${r.stdout}${r.stderr}`)) result = { ok: false, reason: `${name} lacks what it needs (no ${expect.source} in \`${key}\`); install ${install}` };
  else result = { ok: true };
  checked.set(key, result);
  return result;
}

/** What a tool writes on stderr that we keep for the error message. */
const MAX_STDERR = 4096;

export interface ToolRun {
  readonly deadline: number;
  readonly signal?: AbortSignal | undefined;
  readonly cwd: string;
}

/** Runs `name args` to completion; rejects with UNSUPPORTED_IMAGE (exit ≠ 0), TIMEOUT or the abort reason. */
export function runTool(name: string, args: readonly string[], run: ToolRun): Promise<void> {
  checkAbort(run.signal);
  return new Promise<void>((resolve, reject) => {
    const child = spawn(name, args, { cwd: run.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let failure: unknown = null;
    const kill = (why: unknown): void => {
      failure ??= why;
      child.kill('SIGKILL');
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (stderr.length < MAX_STDERR) stderr += s.slice(0, MAX_STDERR - stderr.length);
    });
    const timer = setTimeout(() => kill(new ProxyError('TIMEOUT', `${name}: decoding reached the request deadline`)), Math.max(0, run.deadline - Date.now()));
    const onAbort = (): void => {
      try {
        checkAbort(run.signal);
      } catch (err) {
        kill(err);
      }
    };
    run.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => kill(new ProxyError('UNSUPPORTED_IMAGE', `${name}: cannot run: ${err.message}`, { cause: err })));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      run.signal?.removeEventListener('abort', onAbort);
      if (failure !== null) reject(failure);
      else if (code === 0) resolve();
      else reject(new ProxyError('UNSUPPORTED_IMAGE', `${name}: exited with ${code ?? signal}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

/** Runs `fn` in a fresh private folder under the system's temporary directory, removed afterwards. */
export async function inTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `pixproxy-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

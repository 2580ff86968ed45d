/**
 * Runs the `pixproxy` command as a child process from the sources (`node --import tsx
 * src/cli/bin.cts …`), with only the given environment (plus PATH and HOME), and resolves its
 * exit code and output. A command that does not finish within `timeoutMs` is killed and fails.
 */
import { spawn } from 'node:child_process';

export const CLI_ENTRY = ['src/cli/bin.cts'] as const;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<CliResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...CLI_ENTRY, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pixproxy ${args.join(' ')} did not finish within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

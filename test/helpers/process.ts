/**
 * Runs pixproxy as a real child process (`node --import tsx src/main.ts`, or another entry
 * such as `src/cli/bin.cts serve`) on 127.0.0.1:0, reading the bound port from its JSON
 * "listening" log line. Used by crash, shutdown and CLI tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildServer {
  child: ChildProcess;
  url: string;
  pid: number;
  logs: string[];
  exited: Promise<number | null>;
}

export async function spawnServer(env: Record<string, string>, entry: readonly string[] = ['src/main.ts']): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...entry], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', IMGPROXY_BIND: '127.0.0.1:0', IMGPROXY_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.stderr?.on('data', (d: Buffer) => logs.push(d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      // Nobody holds a server that never said it listens: do not leave it running.
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${logs.join('')}`));
    }, 30_000);
    rl.on('line', (line) => {
      logs.push(line);
      try {
        const j = JSON.parse(line) as { msg?: string; port?: number };
        if (j.msg === 'listening' && j.port) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${j.port}`);
        }
      } catch {
        // not JSON
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${logs.join('\n')}`));
    });
  });
  return { child, url, pid: child.pid ?? 0, logs, exited };
}

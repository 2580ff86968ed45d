// The watchdog of test/helpers/reaper.ts: a process a test run started dies when the run is
// SIGKILLed (no afterAll runs then), and not before. The "run" here is a child node process that
// starts a `sleep` under reapChild and is then killed with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../helpers/process.js';

const REAPER = pathToFileURL(new URL('../helpers/reaper.ts', import.meta.url).pathname).href;
const started: number[] = [];

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return cond();
}

/** A node process that starts `sleep 600` under reapChild, prints its PID and waits. */
async function startRun(): Promise<{ run: ChildProcess; sleeper: number }> {
  const code = `import { spawn } from 'node:child_process';
import { reapChild } from ${JSON.stringify(REAPER)};
const c = spawn('sleep', ['600'], { stdio: 'ignore' });
reapChild(c, [process.pid]);
console.log(c.pid);
setInterval(() => {}, 1000);`;
  const run = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.pid !== undefined) started.push(run.pid);
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: run.stdout! }).once('line', resolve);
    run.once('exit', (c) => reject(new Error(`run exited with ${c}`)));
  });
  const sleeper = Number(line);
  started.push(sleeper);
  return { run, sleeper };
}

afterEach(() => {
  for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
});

describe('reaper', () => {
  it('kills what a SIGKILLed run started, and leaves it alone while the run lives', async () => {
    const { run, sleeper } = await startRun();
    // The watchdog polls every second: two polls with the run alive must not touch the child.
    await new Promise((r) => setTimeout(r, 2500));
    expect(isAlive(sleeper)).toBe(true);
    run.kill('SIGKILL');
    expect(await until(() => !isAlive(sleeper), 10_000)).toBe(true);
  });
});

/**
 * Servers the tests start as separate processes (a Swift SAIO, Azurite, pixproxy children) die
 * with the test run. A run that is SIGKILLed (or whose worker is) never reaches the `stop()` of
 * its `afterAll`, and on Linux a child outlives its parent: without this, each such run leaves a
 * SAIO (five processes, five ports) behind. `reapWhenGone` starts a watchdog, a `/bin/sh` loop in
 * a session of its own (a signal to the run's process group does not reach it), that checks the
 * run's processes every second and, once one is gone, runs the cleanup command (kill the PIDs,
 * or the SAIO's own `stop`). A normal stop cancels the watchdog first.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Reaper {
  /** Ends the watchdog without running the cleanup (the caller stopped the server itself). */
  cancel(): void;
}

// $1: the PIDs to watch (comma-separated), then the cleanup command and its arguments.
const WATCHDOG = `owners=$(echo "$1" | tr , ' '); shift
while :; do
  for p in $owners; do kill -0 "$p" 2>/dev/null || break 2; done
  sleep 1
done
exec "$@"`;

/**
 * The processes of this test run: this one and, in a vitest fork or a script's child, its parent
 * (vitest's main process), so the cleanup also runs when only the main process is killed.
 */
export function runProcesses(): number[] {
  return process.ppid > 1 ? [process.pid, process.ppid] : [process.pid];
}

/** Runs `cleanup` (argv) as soon as any of `owners` has exited. */
export function reapWhenGone(cleanup: readonly string[], owners: readonly number[] = runProcesses()): Reaper {
  const dog = spawn('/bin/sh', ['-c', WATCHDOG, 'pixproxy-reaper', owners.join(','), ...cleanup], { detached: true, stdio: 'ignore' });
  dog.unref();
  const pid = dog.pid;
  return {
    cancel() {
      // The whole group: the shell and the `sleep` it may be waiting on.
      if (pid !== undefined) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
  };
}

/** A watchdog that SIGKILLs `pid` once the run is gone. */
export function killWhenGone(pid: number, owners?: readonly number[]): Reaper {
  return reapWhenGone(['kill', '-KILL', String(pid)], owners);
}

/**
 * A child of this process SIGKILLed once the run is gone; the watchdog ends when the child
 * exits (however it was stopped).
 */
export function reapChild(child: ChildProcess, owners?: readonly number[]): Reaper {
  if (child.pid === undefined) return { cancel() {} };
  const reaper = killWhenGone(child.pid, owners);
  child.once('exit', () => reaper.cancel());
  return reaper;
}

/**
 * Memory of server processes from /proc: VmHWM (peak resident set since the process
 * started) summed over a process and its children (nginx workers), in MB.
 */
import { readFileSync, readdirSync } from 'node:fs';

function statusField(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Direct children of a process (scans /proc/<pid>/stat for the parent id). */
export function childPids(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 is the parent pid; the command (field 2) may contain spaces, so split after ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) === parent) out.push(Number(entry));
    } catch {
      // process ended while scanning
    }
  }
  return out;
}

/** Peak RSS in MB of `pid` (plus its children when `withChildren`), or null if unreadable. */
export function peakRssMb(pid: number, withChildren = false): number | null {
  const pids = withChildren ? [pid, ...childPids(pid)] : [pid];
  let total = 0;
  let any = false;
  for (const p of pids) {
    const v = statusField(p, 'VmHWM');
    if (v !== null) {
      total += v;
      any = true;
    }
  }
  return any ? Math.round(total) : null;
}

/** Current RSS in MB of one process. */
export function rssMb(pid: number): number | null {
  const v = statusField(pid, 'VmRSS');
  return v === null ? null : Math.round(v);
}

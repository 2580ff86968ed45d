/**
 * Server processes from /proc: memory (VmHWM, the peak resident set since the process
 * started or since resetPeakRss, summed over its children for nginx; VmRSS) and CPU time.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

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

/** Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux ≥ 4.0), to measure a phase. */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** User + system CPU seconds a process has used (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Clock ticks; USER_HZ is 100 on every Linux this runs on.
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

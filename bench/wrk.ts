/**
 * Runs wrk (with --latency) and parses its text output into numbers.
 * Latencies are in milliseconds. wrk is the load tool because autocannon saturates its own
 * event loop long before a cache hit does (35× slower on 39 KB bodies on this machine).
 */
import { fileURLToPath } from 'node:url';
import { runCommand } from './lib/proc.js';

export interface WrkOptions {
  url: string;
  connections: number;
  threads?: number;
  durationS: number;
  /** Per-request timeout; wrk's default of 2 s would count slow misses as errors. */
  timeoutS?: number;
  /** A Lua script under bench/lua and its arguments. */
  script?: string;
  scriptArgs?: string[];
}

export interface WrkResult {
  requests: number;
  durationS: number;
  reqPerSec: number;
  latency: { avgMs: number; maxMs: number; p50Ms: number; p75Ms: number; p90Ms: number; p99Ms: number };
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
  bytesPerSec: number;
}

export async function runWrk(o: WrkOptions): Promise<WrkResult> {
  const threads = Math.min(o.threads ?? 2, o.connections);
  const args = ['-t', String(threads), '-c', String(o.connections), '-d', `${o.durationS}s`, '--timeout', `${o.timeoutS ?? 30}s`, '--latency'];
  if (o.script) args.push('-s', fileURLToPath(new URL(`./lua/${o.script}`, import.meta.url)));
  args.push(o.url);
  if (o.scriptArgs?.length) args.push('--', ...o.scriptArgs);
  const { code, stdout, stderr } = await runCommand('wrk', 'wrk', args);
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${stderr || stdout}`);
  return parseWrk(stdout);
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const UNIT_BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function ms(value: string, unit: string): number {
  return Number(value) * (UNIT_MS[unit] ?? Number.NaN);
}

/** Parses wrk 4.x output; throws when the essential lines are missing. */
export function parseWrk(out: string): WrkResult {
  const lat = /^\s*Latency\s+([\d.]+)(us|ms|s|m|h)\s+[\d.]+\w+\s+([\d.]+)(us|ms|s|m|h)/m.exec(out);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m|h)`, 'm').exec(out);
    return m ? ms(m[1] ?? '', m[2] ?? '') : Number.NaN;
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m|h)/.exec(out);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const tps = /Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB|TB)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (!total || !rps) throw new Error(`unexpected wrk output:\n${out}`);
  return {
    requests: Number(total[1]),
    durationS: ms(total[2] ?? '', total[3] ?? '') / 1000,
    reqPerSec: Number(rps[1]),
    latency: {
      avgMs: lat ? ms(lat[1] ?? '', lat[2] ?? '') : Number.NaN,
      maxMs: lat ? ms(lat[3] ?? '', lat[4] ?? '') : Number.NaN,
      p50Ms: pct('50'),
      p75Ms: pct('75'),
      p90Ms: pct('90'),
      p99Ms: pct('99'),
    },
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
    },
    bytesPerSec: tps ? Number(tps[1]) * (UNIT_BYTES[tps[2] ?? 'B'] ?? 1) : 0,
  };
}

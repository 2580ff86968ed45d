/**
 * Log lines to a syslog daemon (IMGPROXY_SYSLOG_*), as imgproxy sends them through Go's
 * log/syslog (https://github.com/imgproxy/imgproxy/blob/master/logger/syslog/syslog.go,
 * https://pkg.go.dev/log/syslog): each formatted line is one message, its severity from the
 * record's level, facility 0 (Go's `Dial(…, LOG_INFO, tag)` leaves the facility bits at 0).
 * Over the network: `<PRI>RFC3339 hostname tag[pid]: line` (Go's network format, RFC 3164
 * with an RFC 3339 timestamp); on the local socket: `<PRI>Stamp tag[pid]: line`.
 *
 * Transports: udp/udp4/udp6 (one datagram per line), tcp/tcp4/tcp6 and unix (a stream,
 * reconnected when it drops). Node has no Unix datagram sockets, so `unixgram` and the
 * local daemon's datagram socket (/dev/log on most systems) cannot be used: startup says so.
 * A slow daemon never holds memory: past 1 MiB waiting on a stream, lines are dropped.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIP, connect, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { ConfigError } from '../config/fields.js';

export interface SyslogOptions {
  /** '' = the local daemon's socket. */
  network: string;
  address: string;
  tag: string;
}

export interface SyslogWriter {
  /** `severity`: syslog's 0 (emerg) … 7 (debug). */
  write(severity: number, line: string): void;
  close(): Promise<void>;
}

/** pino's numeric level → syslog severity, as Go's Writer methods imgproxy calls (Debug, Info, Warning, Err). */
export function syslogSeverity(pinoLevel: number): number {
  if (pinoLevel < 30) return 7;
  if (pinoLevel < 40) return 6;
  if (pinoLevel < 50) return 4;
  return 3;
}

const LOCAL_SOCKETS = ['/dev/log', '/var/run/syslog', '/var/run/log'];
const MAX_PENDING = 1024 * 1024;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** Go's time.Stamp: `Jan _2 15:04:05`. */
function stamp(d: Date): string {
  const day = d.getDate();
  return `${MONTHS[d.getMonth()]} ${day < 10 ? ` ${day}` : day} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Go's time.RFC3339 with the local offset. */
function rfc3339Local(d: Date): string {
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
}

function splitHostPort(address: string): { host: string; port: number } | null {
  const m = /^\[?([^\]]*)\]?:(\d+)$/.exec(address);
  if (!m) return null;
  const port = Number(m[2]);
  return port > 0 && port < 65536 ? { host: m[1] || '127.0.0.1', port } : null;
}

function connectStream(opts: { path: string } | { host: string; port: number; family?: number }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(opts);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** Why a configuration cannot work, or null: checked by the config loader's caller at startup. */
export function syslogConfigProblem(o: SyslogOptions): string | null {
  const n = o.network;
  if (n === 'unixgram' || n === 'unixpacket') return `IMGPROXY_SYSLOG_NETWORK: ${n} sockets cannot be opened from Node.js; use udp, tcp or unix (a stream socket)`;
  if (n !== '' && !['udp', 'udp4', 'udp6', 'tcp', 'tcp4', 'tcp6', 'unix'].includes(n)) return `IMGPROXY_SYSLOG_NETWORK: expected one of udp, udp4, udp6, tcp, tcp4, tcp6, unix, got ${JSON.stringify(n)}`;
  // imgproxy's rule (logger/syslog/config.go, Validate).
  if (n !== '' && o.address === '') return 'IMGPROXY_SYSLOG_ADDRESS: syslog address is required if syslog network is set';
  if (n.startsWith('udp') || n.startsWith('tcp')) {
    if (!splitHostPort(o.address)) return `IMGPROXY_SYSLOG_ADDRESS: expected host:port, got ${JSON.stringify(o.address)}`;
  }
  return null;
}

/** Opens the connection (startup fails here, naming why, when the daemon cannot be reached). */
export async function openSyslog(o: SyslogOptions): Promise<SyslogWriter> {
  const problem = syslogConfigProblem(o);
  if (problem) throw new ConfigError(problem);
  const tag = o.tag;
  const host = hostname();
  const pid = process.pid;

  if (o.network.startsWith('udp')) {
    const hp = splitHostPort(o.address) as { host: string; port: number };
    const family = o.network === 'udp6' || isIP(hp.host) === 6 ? 'udp6' : 'udp4';
    const socket: UdpSocket = createSocket(family);
    socket.on('error', () => undefined);
    socket.unref();
    return {
      write(severity, line) {
        socket.send(`<${severity}>${rfc3339Local(new Date())} ${host} ${tag}[${pid}]: ${line.endsWith('\n') ? line : `${line}\n`}`, hp.port, hp.host);
      },
      close: () => new Promise((r) => socket.close(() => r())),
    };
  }

  const local = o.network === '';
  const target = (): { path: string } | { host: string; port: number; family?: number } => {
    if (o.network === 'unix') return { path: o.address };
    const hp = splitHostPort(o.address) as { host: string; port: number };
    return { ...hp, ...(o.network === 'tcp4' ? { family: 4 } : o.network === 'tcp6' ? { family: 6 } : {}) };
  };
  let socket: Socket;
  if (local) {
    let opened: Socket | null = null;
    const errors: string[] = [];
    for (const path of LOCAL_SOCKETS) {
      try {
        opened = await connectStream({ path });
        break;
      } catch (err) {
        errors.push(`${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    if (!opened) {
      throw new ConfigError(`IMGPROXY_SYSLOG_ENABLE: no local syslog stream socket could be opened (${errors.join(', ')}); a datagram-only /dev/log cannot be used from Node.js: set IMGPROXY_SYSLOG_NETWORK=udp and IMGPROXY_SYSLOG_ADDRESS=host:514, or tcp, or unix with a stream socket`);
    }
    socket = opened;
  } else {
    try {
      socket = await connectStream(target());
    } catch (err) {
      throw new ConfigError(`IMGPROXY_SYSLOG_ADDRESS: cannot connect to the syslog daemon at ${o.address} over ${o.network}: ${(err as Error).message}`);
    }
  }
  let current: Socket | null = socket;
  let closed = false;
  const watch = (s: Socket): void => {
    s.unref();
    s.on('error', () => undefined);
    s.on('close', () => {
      if (current === s) current = null;
    });
  };
  watch(socket);
  let reconnecting = false;
  const reconnect = (): void => {
    if (reconnecting || closed || local) return;
    reconnecting = true;
    connectStream(target()).then(
      (s) => {
        reconnecting = false;
        if (closed) s.destroy();
        else {
          watch(s);
          current = s;
        }
      },
      () => {
        reconnecting = false;
      },
    );
  };
  return {
    write(severity, line) {
      const s = current;
      if (!s) {
        reconnect();
        return;
      }
      if (s.writableLength > MAX_PENDING) return;
      const body = line.endsWith('\n') ? line : `${line}\n`;
      s.write(local ? `<${severity}>${stamp(new Date())} ${tag}[${pid}]: ${body}` : `<${severity}>${rfc3339Local(new Date())} ${host} ${tag}[${pid}]: ${body}`);
    },
    async close() {
      closed = true;
      const s = current;
      current = null;
      if (s) await new Promise<void>((r) => s.end(() => r()));
    },
  };
}

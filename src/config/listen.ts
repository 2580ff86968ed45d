/**
 * Listen addresses, parsed once here into typed values: the image server's (IMGPROXY_NETWORK
 * + IMGPROXY_BIND, or PORT / PP_PORT) and the metrics listener's (IMGPROXY_PROMETHEUS_BIND).
 * The grammar is Go's `net.Listen`, which imgproxy calls with these strings
 * (https://github.com/imgproxy/imgproxy/blob/master/server/server.go,
 * https://github.com/imgproxy/imgproxy/blob/master/monitoring/prometheus/prometheus.go):
 * `host:port`, `:port` for every interface, `[v6]:port`; a missing port is an error there, so
 * it is one here (it used to mean "a random port"). With IMGPROXY_NETWORK=unix the bind is a
 * socket path.
 */
import { isIPv4, isIPv6, type ListenOptions } from 'node:net';

export type TcpNetwork = 'tcp' | 'tcp4' | 'tcp6';
export const NETWORKS = ['tcp', 'tcp4', 'tcp6', 'unix'] as const;
export type Network = (typeof NETWORKS)[number];

export interface TcpAddress {
  readonly network: TcpNetwork;
  /** Empty = every interface of the network (both families for `tcp`). */
  readonly host: string;
  readonly port: number;
}

export interface UnixAddress {
  readonly network: 'unix';
  readonly path: string;
}

export type ListenAddress = TcpAddress | UnixAddress;

/** Splits `host:port` as Go's net.SplitHostPort does; returns what is wrong otherwise. */
export function parseHostPort(text: string, network: TcpNetwork = 'tcp'): TcpAddress | string {
  const t = text.trim();
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(t);
  const colon = t.lastIndexOf(':');
  if (!bracketed && colon < 0) return 'expected host:port or :port (the port is required)';
  const host = bracketed ? (bracketed[1] ?? '') : t.slice(0, colon);
  const portText = bracketed ? (bracketed[2] ?? '') : t.slice(colon + 1);
  if (!bracketed && host.includes(':')) return 'expected host:port with an IPv6 host in brackets ([::1]:8080)';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return `expected a port from 0 to 65535, got ${JSON.stringify(portText)}`;
  if (network === 'tcp4' && isIPv6(host)) return 'expected an IPv4 host with IMGPROXY_NETWORK=tcp4';
  if (network === 'tcp6' && isIPv4(host)) return 'expected an IPv6 host with IMGPROXY_NETWORK=tcp6';
  return { network, host, port: Number(portText) };
}

/** Node's `server.listen()` options for an address. */
export function listenOptions(address: ListenAddress): ListenOptions {
  if (address.network === 'unix') return { path: address.path };
  const { host, port, network } = address;
  // Node with no host listens on `::` dual-stack when IPv6 is available and on 0.0.0.0
  // otherwise, which is what Go's "tcp" does with an empty host.
  if (host === '') return network === 'tcp' ? { port } : network === 'tcp4' ? { port, host: '0.0.0.0' } : { port, host: '::', ipv6Only: true };
  return network === 'tcp6' ? { port, host, ipv6Only: true } : { port, host };
}

/** Whether two listeners would claim the same port (a fixed port, overlapping hosts). */
export function sameSocket(a: ListenAddress, b: ListenAddress): boolean {
  if (a.network === 'unix' && b.network === 'unix') return a.path === b.path;
  if (a.network === 'unix' || b.network === 'unix') return false;
  return a.port !== 0 && a.port === b.port && (a.host === '' || b.host === '' || a.host === b.host);
}

/** `host:port`, `[v6]:port` or the socket path, as logs and messages show an address. */
export function showAddress(address: ListenAddress): string {
  if (address.network === 'unix') return address.path;
  return `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
}

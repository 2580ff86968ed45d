/**
 * IP address classification for the SSRF guard: loopback, link-local, private or public,
 * including the IPv4 address carried inside an IPv6 address (mapped, compatible, 6to4,
 * NAT64, Teredo, ISATAP).
 *
 * Why the unwrapping matters: a host that resolves to `64:ff9b::7f00:1` or `2002:7f00:1::`
 * looks like a public IPv6 address, but on a network with NAT64, 6to4 relays or a dual
 * stack kernel the packet may well end up at 127.0.0.1. So an address is only allowed when
 * both the outer address and any embedded IPv4 are allowed (imgproxy's privatenet does the
 * same since 4.0.12). Anything we cannot parse is refused: the guard fails closed.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Config } from '../config/index.js';

export type AddressClass = 'loopback' | 'link-local' | 'private' | 'public';

export type EmbeddingForm = 'ipv4-mapped' | 'ipv4-translated' | 'ipv4-compatible' | '6to4' | 'nat64' | 'nat64-local' | 'teredo' | 'isatap';

export interface AddressInfo {
  family: 4 | 6;
  /** Class of the address itself. */
  class: AddressClass;
  /** The IPv4 address an IPv6 address carries, when it has one. */
  embedded?: { form: EmbeddingForm; address: string; class: AddressClass };
}

export type AddressVerdict = { ok: true } | { ok: false; reason: string };

export type AddressPolicy = Pick<Config['security'], 'allowLoopbackSourceAddresses' | 'allowLinkLocalSourceAddresses' | 'allowPrivateSourceAddresses'>;

/** Strips `[…]` and an IPv6 zone (`%eth0`): neither changes which host is reached. */
function normalize(ip: string): string {
  let s = ip.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  return zone === -1 ? s : s.slice(0, zone);
}

function parseIPv4(s: string): Uint8Array | null {
  // isIPv4 accepts only canonical dotted quads (no octal, hex or short forms), so a
  // resolver quirk cannot make us read a different address than the kernel dials.
  if (!isIPv4(s)) return null;
  return Uint8Array.from(s.split('.').map(Number));
}

function parseIPv6(s: string): Uint8Array | null {
  if (!isIPv6(s)) return null;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (!v4) return null;
    text = `${text.slice(0, lastColon + 1)}${(((v4[0] ?? 0) << 8) | (v4[1] ?? 0)).toString(16)}:${(((v4[2] ?? 0) << 8) | (v4[3] ?? 0)).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const left = halves[0] ? halves[0].split(':') : [];
  const right = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...(Array.from({ length: halves.length === 2 ? missing : 0 }, () => '0')), ...right];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
}

function classifyIPv4(b: Uint8Array): AddressClass {
  const [a = 0, c = 0, d = 0] = [b[0], b[1], b[2]];
  // 0.0.0.0/8 ("this host on this network"): Linux dials 0.0.0.0 as the local host.
  if (a === 0 || a === 127) return 'loopback';
  if (a === 169 && c === 254) return 'link-local';
  // 224.0.0.0/24: link-local multicast (Go's IsLinkLocalMulticast, which imgproxy uses).
  if (a === 224 && c === 0 && d === 0) return 'link-local';
  if (a === 10) return 'private';
  if (a === 172 && c >= 16 && c <= 31) return 'private';
  if (a === 192 && c === 168) return 'private';
  // 100.64.0.0/10, carrier-grade NAT (RFC 6598): another tenant's network, not the Internet.
  if (a === 100 && c >= 64 && c <= 127) return 'private';
  return 'public';
}

function classifyIPv6(b: Uint8Array): AddressClass {
  const allZeroUpTo = (n: number): boolean => b.subarray(0, n).every((x) => x === 0);
  if (allZeroUpTo(15) && (b[15] === 0 || b[15] === 1)) return 'loopback'; // :: and ::1
  const b0 = b[0] ?? 0;
  const b1 = b[1] ?? 0;
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return 'link-local'; // fe80::/10
  if (b0 === 0xff && (b1 & 0x0f) === 0x02) return 'link-local'; // ff02::/16 and friends: link-scope multicast
  if ((b0 & 0xfe) === 0xfc) return 'private'; // fc00::/7, unique local
  if (b0 === 0xfe && (b1 & 0xc0) === 0xc0) return 'private'; // fec0::/10, deprecated site-local
  return 'public';
}

function v4(b: Uint8Array, i: number[], invert = false): Uint8Array {
  return Uint8Array.from(i.map((k) => ((b[k] ?? 0) ^ (invert ? 0xff : 0)) & 0xff));
}

/** The IPv4 address an IPv6 address carries, if it is one of the known embedding forms. */
function unwrapEmbeddedIPv4(b: Uint8Array): { form: EmbeddingForm; bytes: Uint8Array } | null {
  if (b.length !== 16) return null;
  const zero = (from: number, to: number): boolean => b.subarray(from, to).every((x) => x === 0);
  const last = [12, 13, 14, 15];
  // RFC 4291 §2.5.5.2 ::ffff:a.b.c.d
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return { form: 'ipv4-mapped', bytes: v4(b, last) };
  // RFC 2765 ::ffff:0:a.b.c.d (SIIT "IPv4-translated")
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return { form: 'ipv4-translated', bytes: v4(b, last) };
  // RFC 4291 §2.5.5.1 ::a.b.c.d (deprecated, but stacks still route it)
  if (zero(0, 12)) return { form: 'ipv4-compatible', bytes: v4(b, last) };
  // RFC 3056 2002:aabb:ccdd::/48
  if (b[0] === 0x20 && b[1] === 0x02) return { form: '6to4', bytes: v4(b, [2, 3, 4, 5]) };
  // RFC 6052 64:ff9b::/96
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(4, 12)) return { form: 'nat64', bytes: v4(b, last) };
  // RFC 8215 64:ff9b:1::/48: with a /48 prefix, RFC 6052 §2.2 puts the IPv4 in bytes 6,7,9,10 (byte 8 is the reserved "u" octet).
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && b[4] === 0x00 && b[5] === 0x01) return { form: 'nat64-local', bytes: v4(b, [6, 7, 9, 10]) };
  // RFC 4380 2001:0000::/32: the client's public IPv4 is the last 32 bits, bit-inverted.
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) return { form: 'teredo', bytes: v4(b, last, true) };
  // RFC 5214 ISATAP: any prefix with interface id 0000:5efe:a.b.c.d or 0200:5efe:a.b.c.d (the u/l bit variant).
  if ((b[8] === 0x00 || b[8] === 0x02) && b[9] === 0x00 && b[10] === 0x5e && b[11] === 0xfe) return { form: 'isatap', bytes: v4(b, last) };
  return null;
}

/** Classifies an IP literal; null when it is not one. */
export function classifyAddress(ip: string): AddressInfo | null {
  const s = normalize(ip);
  const b4 = parseIPv4(s);
  if (b4) return { family: 4, class: classifyIPv4(b4) };
  const b6 = parseIPv6(s);
  if (!b6) return null;
  const info: AddressInfo = { family: 6, class: classifyIPv6(b6) };
  const inner = unwrapEmbeddedIPv4(b6);
  if (inner) info.embedded = { form: inner.form, address: inner.bytes.join('.'), class: classifyIPv4(inner.bytes) };
  return info;
}

const FLAG: Record<Exclude<AddressClass, 'public'>, keyof AddressPolicy> = {
  loopback: 'allowLoopbackSourceAddresses',
  'link-local': 'allowLinkLocalSourceAddresses',
  private: 'allowPrivateSourceAddresses',
};

const VARIABLE: Record<Exclude<AddressClass, 'public'>, string> = {
  loopback: 'IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES',
  'link-local': 'IMGPROXY_ALLOW_LINK_LOCAL_SOURCE_ADDRESSES',
  private: 'IMGPROXY_ALLOW_PRIVATE_SOURCE_ADDRESSES',
};

/**
 * Whether the SSRF guard lets a connection go to `ip`. Both the address and any IPv4 it
 * embeds must be allowed; the reason names the class and the variable that would allow it.
 */
export function isAddressAllowed(ip: string, policy: AddressPolicy): AddressVerdict {
  const info = classifyAddress(ip);
  if (!info) return { ok: false, reason: `${JSON.stringify(ip)} is not an IP address` };
  const checks: { cls: AddressClass; what: string }[] = [{ cls: info.class, what: normalize(ip) }];
  if (info.embedded) checks.push({ cls: info.embedded.class, what: `${info.embedded.address} (embedded ${info.embedded.form} in ${normalize(ip)})` });
  for (const { cls, what } of checks) {
    if (cls === 'public' || policy[FLAG[cls]]) continue;
    return { ok: false, reason: `${what} is a ${cls} address; set ${VARIABLE[cls]}=true to allow it` };
  }
  return { ok: true };
}

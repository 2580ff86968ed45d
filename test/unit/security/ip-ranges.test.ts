import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { classifyAddress, isAddressAllowed, type AddressClass } from '../../../src/security/ip-ranges.js';

describe('classifyAddress', () => {
  const table: [string, AddressClass][] = [
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['0.0.0.0', 'loopback'],
    ['0.1.2.3', 'loopback'],
    ['::1', 'loopback'],
    ['::', 'loopback'],
    ['[::1]', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['224.0.0.251', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['ff02::1', 'link-local'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fec0::1', 'private'],
    ['8.8.8.8', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['169.253.0.1', 'public'],
    ['2606:4700::1111', 'public'],
    ['fe00::1', 'public'],
  ];
  it.each(table)('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)?.class).toBe(cls);
  });

  it('returns null for non-addresses', () => {
    expect(classifyAddress('example.com')).toBeNull();
    expect(classifyAddress('127.1')).toBeNull();
    expect(classifyAddress('0x7f.0.0.1')).toBeNull();
    expect(classifyAddress('1::2::3')).toBeNull();
    expect(classifyAddress('')).toBeNull();
  });

  // Every embedding form, each carrying a forbidden IPv4 and a public one.
  const embedded: [string, string, string, AddressClass][] = [
    ['::ffff:127.0.0.1', 'ipv4-mapped', '127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'ipv4-mapped', '127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'ipv4-mapped', '169.254.169.254', 'link-local'],
    ['::ffff:8.8.8.8', 'ipv4-mapped', '8.8.8.8', 'public'],
    ['::ffff:0:10.1.2.3', 'ipv4-translated', '10.1.2.3', 'private'],
    ['::127.0.0.1', 'ipv4-compatible', '127.0.0.1', 'loopback'],
    ['::10.0.0.1', 'ipv4-compatible', '10.0.0.1', 'private'],
    ['::8.8.4.4', 'ipv4-compatible', '8.8.4.4', 'public'],
    ['2002:7f00:1::', '6to4', '127.0.0.1', 'loopback'],
    ['2002:a9fe:a9fe::1', '6to4', '169.254.169.254', 'link-local'],
    ['2002:c0a8:101:1::1', '6to4', '192.168.1.1', 'private'],
    ['2002:808:808::', '6to4', '8.8.8.8', 'public'],
    ['64:ff9b::127.0.0.1', 'nat64', '127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'nat64', '10.0.0.1', 'private'],
    ['64:ff9b::808:808', 'nat64', '8.8.8.8', 'public'],
    // /48 layout: bytes 6,7 then (u octet 8 skipped) 9,10.
    ['64:ff9b:1:7f00:0:100::', 'nat64-local', '127.0.0.1', 'loopback'],
    ['64:ff9b:1:a9fe:a9:fe00::', 'nat64-local', '169.254.169.254', 'link-local'],
    ['64:ff9b:1:808:8:800::', 'nat64-local', '8.8.8.8', 'public'],
    // Teredo: last 32 bits are the bit-inverted client address.
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'teredo', '127.0.0.1', 'loopback'],
    ['2001::f5ff:fffe', 'teredo', '10.0.0.1', 'private'],
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'teredo', '8.8.8.8', 'public'],
    ['2001:db8::5efe:127.0.0.1', 'isatap', '127.0.0.1', 'loopback'],
    ['fe80::200:5efe:192.168.0.1', 'isatap', '192.168.0.1', 'private'],
    ['2001:db8::200:5efe:8.8.8.8', 'isatap', '8.8.8.8', 'public'],
  ];
  it.each(embedded)('%s carries %s %s (%s)', (ip, form, address, cls) => {
    const info = classifyAddress(ip);
    expect(info?.family).toBe(6);
    expect(info?.embedded).toEqual({ form, address, class: cls });
  });

  it('plain IPv6 addresses carry nothing', () => {
    expect(classifyAddress('2606:4700::1111')?.embedded).toBeUndefined();
    expect(classifyAddress('fd00::1')?.embedded).toBeUndefined();
    expect(classifyAddress('8.8.8.8')?.embedded).toBeUndefined();
  });
});

describe('isAddressAllowed', () => {
  const strict = loadConfig({}).security;
  const loopbackOk = loadConfig({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true' }).security;
  const linkLocalOk = loadConfig({ IMGPROXY_ALLOW_LINK_LOCAL_SOURCE_ADDRESSES: 'true' }).security;
  const privateOk = loadConfig({ IMGPROXY_ALLOW_PRIVATE_SOURCE_ADDRESSES: 'true' }).security;

  it('defaults refuse loopback, link-local and private, allow public', () => {
    for (const ip of ['127.0.0.1', '::1', '0.0.0.0', '169.254.169.254', 'fe80::1', '10.0.0.1', '100.64.1.1', 'fd00::1']) {
      expect(isAddressAllowed(ip, strict).ok, ip).toBe(false);
    }
    expect(isAddressAllowed('8.8.8.8', strict)).toEqual({ ok: true });
    expect(isAddressAllowed('2606:4700::1111', strict)).toEqual({ ok: true });
  });

  it('names the variable that would allow the address', () => {
    const v = isAddressAllowed('169.254.169.254', strict);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toContain('IMGPROXY_ALLOW_LINK_LOCAL_SOURCE_ADDRESSES');
  });

  it('each flag opens exactly its class', () => {
    expect(isAddressAllowed('127.0.0.1', loopbackOk).ok).toBe(true);
    expect(isAddressAllowed('10.0.0.1', loopbackOk).ok).toBe(false);
    expect(isAddressAllowed('169.254.1.1', linkLocalOk).ok).toBe(true);
    expect(isAddressAllowed('127.0.0.1', linkLocalOk).ok).toBe(false);
    expect(isAddressAllowed('192.168.0.1', privateOk).ok).toBe(true);
    expect(isAddressAllowed('169.254.1.1', privateOk).ok).toBe(false);
  });

  it('refuses a public-looking IPv6 that embeds a forbidden IPv4, in every form', () => {
    for (const ip of ['::ffff:127.0.0.1', '::ffff:0:127.0.0.1', '::127.0.0.2', '2002:7f00:1::', '64:ff9b::7f00:1', '64:ff9b:1:7f00:0:100::', '2001:0:4136:e378:8000:63bf:80ff:fffe', '2001:db8::5efe:7f00:1']) {
      const v = isAddressAllowed(ip, strict);
      expect(v.ok, ip).toBe(false);
      if (!v.ok) expect(v.reason, ip).toContain('embedded');
    }
    expect(isAddressAllowed('64:ff9b::7f00:1', loopbackOk).ok).toBe(true);
    expect(isAddressAllowed('2002:a00:1::', loopbackOk).ok).toBe(false);
  });

  it('fails closed on anything that is not an IP literal', () => {
    expect(isAddressAllowed('localhost', loopbackOk).ok).toBe(false);
    expect(isAddressAllowed('', strict).ok).toBe(false);
  });
});

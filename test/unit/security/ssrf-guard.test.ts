import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { ProxyError } from '../../../src/errors.js';
import { createGuardedLookup, type Resolver } from '../../../src/security/ssrf-guard.js';

type Outcome = { err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number };

function lookup(resolve: Resolver, env: Record<string, string>, all: boolean): Promise<Outcome> {
  const fn = createGuardedLookup(loadConfig(env).security, resolve);
  return new Promise((done) => fn('host.invalid', { all }, (err, address, family) => done({ err, address, family })));
}

const answer =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('createGuardedLookup', () => {
  it('hands back every checked address when net asks for all (happy eyeballs)', async () => {
    const r = await lookup(answer('93.184.216.34', '2606:2800:220:1::1'), {}, true);
    expect(r.err).toBeNull();
    expect(r.address).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
  });

  it('hands back the first address when net asks for one', async () => {
    const r = await lookup(answer('93.184.216.34', '1.1.1.1'), {}, false);
    expect(r.err).toBeNull();
    expect(r.address).toBe('93.184.216.34');
    expect(r.family).toBe(4);
  });

  it('refuses the whole answer when any address is forbidden (rebinding with mixed records)', async () => {
    for (const bad of ['127.0.0.1', '10.1.2.3', '169.254.169.254', '::ffff:127.0.0.1', '64:ff9b::a9fe:a9fe']) {
      const r = await lookup(answer('93.184.216.34', bad), {}, true);
      expect(r.err, bad).toBeInstanceOf(ProxyError);
      expect((r.err as ProxyError).code).toBe('SOURCE_ADDRESS_FORBIDDEN');
    }
  });

  it('honours the allow flags', async () => {
    const r = await lookup(answer('10.1.2.3'), { IMGPROXY_ALLOW_PRIVATE_SOURCE_ADDRESSES: 'true' }, false);
    expect(r.err).toBeNull();
    expect(r.address).toBe('10.1.2.3');
  });

  it('an empty answer is ENOTFOUND and a resolver failure passes through', async () => {
    const empty = await lookup(answer(), {}, true);
    expect(empty.err?.code).toBe('ENOTFOUND');
    const failing: Resolver = async () => {
      const e: NodeJS.ErrnoException = new Error('boom');
      e.code = 'EAI_AGAIN';
      throw e;
    };
    const r = await lookup(failing, {}, true);
    expect(r.err?.code).toBe('EAI_AGAIN');
  });
});

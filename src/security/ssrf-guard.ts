/**
 * The connect-time SSRF guard for HTTP(S) sources: an undici connector whose DNS lookup
 * refuses forbidden addresses (ip-ranges.ts) and hands the socket only the addresses it
 * checked.
 *
 * Why at connect time and on the resolved address: checking a hostname and then letting the
 * socket resolve it again leaves a DNS-rebinding window (first answer public, second answer
 * 127.0.0.1), which is how Next.js and ipx stay open. Here the addresses net.connect dials
 * are the very ones we checked, and every connection (first request, each redirect hop, each
 * new pooled socket) goes through it. IP-literal hosts never reach `lookup` (net.connect
 * skips DNS for them), so the connector checks those itself.
 */
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { ProxyError } from '../errors.js';
import { isAddressAllowed, type AddressPolicy } from './ip-ranges.js';

export type Resolver = (hostname: string, options: dns.LookupOptions) => Promise<dns.LookupAddress[]>;

const systemResolver: Resolver = (hostname, options) => dns.promises.lookup(hostname, { ...options, all: true });

/**
 * A `net.connect` lookup that resolves every address of `hostname` and fails with
 * SOURCE_ADDRESS_FORBIDDEN when any of them is forbidden. Refusing on *any* (not just the first)
 * matters because with happy eyeballs (autoSelectFamily) net may dial any of them.
 */
export function createGuardedLookup(policy: AddressPolicy, resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { family: options.family, hints: options.hints }).then(
      (addresses) => {
        if (addresses.length === 0) {
          const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          err.code = 'ENOTFOUND';
          callback(err, '', 0);
          return;
        }
        for (const a of addresses) {
          const verdict = isAddressAllowed(a.address, policy);
          if (!verdict.ok) {
            callback(new ProxyError('SOURCE_ADDRESS_FORBIDDEN', `source host ${hostname} resolves to a forbidden address: ${verdict.reason}`), '', 0);
            return;
          }
        }
        if (options.all) callback(null, addresses);
        else callback(null, addresses[0]?.address ?? '', addresses[0]?.family ?? 4);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

export interface GuardedConnectorOptions {
  /** Connect timeout in ms. */
  timeout: number;
  rejectUnauthorized: boolean;
  resolve?: Resolver;
}

export function createGuardedConnector(policy: AddressPolicy, opts: GuardedConnectorOptions): buildConnector.connector {
  const base = buildConnector({
    lookup: createGuardedLookup(policy, opts.resolve),
    timeout: opts.timeout,
    rejectUnauthorized: opts.rejectUnauthorized,
  });
  return (options, callback) => {
    // undici has already stripped the brackets of an IPv6 literal here.
    if (isIP(options.hostname) !== 0) {
      const verdict = isAddressAllowed(options.hostname, policy);
      if (!verdict.ok) {
        callback(new ProxyError('SOURCE_ADDRESS_FORBIDDEN', `forbidden source address: ${verdict.reason}`), null);
        return;
      }
    }
    base(options, callback);
  };
}

/**
 * Port of imgproxy's httpheaders/conditionalheaders/request_test.go (TestConditionalHeadersSuite):
 * which of the client's If-Modified-Since / If-None-Match go to the origin (buster rules), and
 * the ETag / Last-Modified the client gets for the origin's. Upstream calls the Request type's
 * two methods; ours are the pure functions the image handler uses (src/http/conditional.ts).
 * https://github.com/imgproxy/imgproxy/blob/master/httpheaders/conditionalheaders/request_test.go
 */
import { describe, expect } from 'vitest';
import { originConditionals, responseEtag, responseLastModified, type ConditionalPolicy } from '../../../../../src/http/conditional.js';
import { ported } from '../../harness.js';

const buster = Date.UTC(2020, 0, 1);
const httpDate = (ms: number) => new Date(ms).toUTCString();
const b64 = (s: string) => Buffer.from(s).toString('base64url');
const HOUR = 3600_000;

interface Flags {
  lastModifiedEnabled?: boolean;
  lastModifiedBuster?: number;
  etagEnabled?: boolean;
  etagBuster?: string;
}
const policy = (f: Flags): ConditionalPolicy => ({
  useLastModified: f.lastModifiedEnabled ?? false,
  lastModifiedBuster: f.lastModifiedBuster ?? null,
  useEtag: f.etagEnabled ?? false,
  etagBuster: f.etagBuster ?? '',
});

describe('TestConditionalHeadersSuite', () => {
  describe('TestInjectImageRequestHeaders', () => {
    const after = httpDate(buster + HOUR);
    const before = httpDate(buster - HOUR);
    const cases: { name: string; ifModifiedSince?: string; ifNoneMatch?: string; etagSentToSource?: string; flags: Flags; wantIms: boolean; wantInm: boolean }[] = [
      { name: 'all disabled', flags: {}, wantIms: false, wantInm: false },
      { name: 'last modified enabled', ifModifiedSince: after, flags: { lastModifiedEnabled: true }, wantIms: true, wantInm: false },
      { name: 'etag enabled', ifNoneMatch: 'etag1', etagSentToSource: 'etag1', flags: { etagEnabled: true }, wantIms: false, wantInm: true },
      { name: 'etag/lm enabled with no buster', ifModifiedSince: after, ifNoneMatch: 'etag1', etagSentToSource: 'etag1', flags: { lastModifiedEnabled: true, etagEnabled: true }, wantIms: true, wantInm: true },
      { name: 'last modified after buster', ifModifiedSince: after, flags: { lastModifiedEnabled: true, lastModifiedBuster: buster }, wantIms: true, wantInm: false },
      { name: 'last modified before buster', ifModifiedSince: before, flags: { lastModifiedEnabled: true, lastModifiedBuster: buster }, wantIms: false, wantInm: false },
      { name: 'last modified enabled with buster, invalid header', ifModifiedSince: 'not-a-time', flags: { lastModifiedEnabled: true, lastModifiedBuster: buster }, wantIms: false, wantInm: false },
      { name: 'etag buster', ifNoneMatch: `buster/${b64('etag1')}`, etagSentToSource: 'etag1', flags: { etagEnabled: true, etagBuster: 'buster' }, wantIms: false, wantInm: true },
      {
        name: 'both enabled, but last modified buster check fails, etag still works',
        ifModifiedSince: before, ifNoneMatch: `buster/${b64('etag1')}`, etagSentToSource: 'etag1',
        flags: { lastModifiedEnabled: true, lastModifiedBuster: buster, etagEnabled: true, etagBuster: 'buster' }, wantIms: false, wantInm: true,
      },
      {
        name: 'both enabled, if-none-match with invalid base64',
        ifModifiedSince: after, ifNoneMatch: 'buster/@@@',
        flags: { lastModifiedEnabled: true, lastModifiedBuster: buster, etagEnabled: true, etagBuster: 'buster' }, wantIms: false, wantInm: false,
      },
      {
        name: 'both enabled, but etag buster different',
        ifModifiedSince: after, ifNoneMatch: `buster/${b64('etag1')}`,
        flags: { lastModifiedEnabled: true, lastModifiedBuster: buster, etagEnabled: true, etagBuster: 'different-buster' }, wantIms: false, wantInm: false,
      },
      {
        name: 'both enabled, but etag with no buster',
        ifModifiedSince: after, ifNoneMatch: 'W/etag1',
        flags: { lastModifiedEnabled: true, lastModifiedBuster: buster, etagEnabled: true, etagBuster: 'buster' }, wantIms: false, wantInm: false,
      },
    ];
    for (const c of cases) {
      ported(`TestInjectImageRequestHeaders/${c.name}`, () => {
        const sent = originConditionals(policy(c.flags), c.ifNoneMatch, c.ifModifiedSince);
        expect(sent.ifModifiedSince).toBe(c.wantIms ? c.ifModifiedSince : undefined);
        expect(sent.ifNoneMatch).toBe(c.wantInm ? c.etagSentToSource : undefined);
      });
    }
  });

  describe('TestInjectUserResponseHeaders', () => {
    const lastModAfterBuster = httpDate(buster + HOUR);
    const lastModBeforeBuster = httpDate(buster - HOUR);
    const cases: { name: string; imageEtag?: string; imageLastModified?: string; flags: Flags; wantLastModified?: string; wantEtag?: string }[] = [
      { name: 'all disabled', flags: {} },
      { name: 'lastmod enabled no header', flags: { lastModifiedEnabled: true } },
      { name: 'lastmod older than buster', imageLastModified: lastModBeforeBuster, flags: { lastModifiedEnabled: true, lastModifiedBuster: buster }, wantLastModified: httpDate(buster) },
      { name: 'lastmod after buster', imageLastModified: lastModAfterBuster, flags: { lastModifiedEnabled: true, lastModifiedBuster: buster }, wantLastModified: lastModAfterBuster },
      { name: 'lastmod invalid value', imageLastModified: 'not-a-time', flags: { lastModifiedEnabled: true, lastModifiedBuster: buster } },
      { name: 'etag enabled empty', flags: { etagEnabled: true } },
      { name: 'etag enabled with value', imageEtag: 'etag1', flags: { etagEnabled: true, etagBuster: 'buster' }, wantEtag: `"buster/${b64('etag1')}"` },
      {
        name: 'both enabled, both present, lm older',
        imageLastModified: lastModBeforeBuster, imageEtag: 'etag2',
        flags: { lastModifiedEnabled: true, lastModifiedBuster: buster, etagEnabled: true, etagBuster: 'buster' },
        wantLastModified: httpDate(buster), wantEtag: `"buster/${b64('etag2')}"`,
      },
    ];
    for (const c of cases) {
      ported(`TestInjectUserResponseHeaders/${c.name}`, () => {
        const p = policy(c.flags);
        expect(responseLastModified(p, c.imageLastModified)).toBe(c.wantLastModified);
        expect(responseEtag(p, c.imageEtag)).toBe(c.wantEtag);
      });
    }
  });
});

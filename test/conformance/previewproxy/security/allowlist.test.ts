/**
 * src/modules/security/allowlist.rs (https://github.com/ViGrise/previewproxy): PP_ALLOWED_HOSTS
 * matching (exact, one-label `*.` wildcard, empty = all) against the dialect's `hostAllowed`,
 * and private addresses against our SSRF classifier (`src/security/ip-ranges.ts`). PreviewProxy
 * checks private addresses only when PP_APP_ENV=production, though its docs say "always"; we
 * block them always (the SSRF guard of every http source).
 */
import { describe, expect } from 'vitest';
import { hostAllowed } from '../../../../src/dialects/previewproxy/index.js';
import { classifyAddress } from '../../../../src/security/ip-ranges.js';
import { ported } from '../../harness.js';

describe('src/modules/security/allowlist.rs', () => {
  ported('test_exact_match', () => {
    expect(hostAllowed('example.com', ['example.com'])).toBe(true);
    expect(hostAllowed('www.example.com', ['example.com'])).toBe(false);
    expect(hostAllowed('other.com', ['example.com'])).toBe(false);
  });

  ported('test_wildcard_single_label', () => {
    expect(hostAllowed('www.example.com', ['*.example.com'])).toBe(true);
    expect(hostAllowed('a.b.example.com', ['*.example.com'])).toBe(false);
    expect(hostAllowed('example.com', ['*.example.com'])).toBe(false);
  });

  ported('test_empty_allows_all', () => {
    expect(hostAllowed('anything.com', [])).toBe(true);
    expect(hostAllowed('10.0.0.1', [])).toBe(true);
  });

  ported('test_private_ip_always_blocked', () => {
    for (const ip of ['10.0.0.1', '192.168.1.1', '127.0.0.1', '169.254.1.1', '172.16.0.1']) expect(classifyAddress(ip)?.class, ip).not.toBe('public');
    for (const ip of ['8.8.8.8', '1.1.1.1']) expect(classifyAddress(ip)?.class, ip).toBe('public');
  });
});

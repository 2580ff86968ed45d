/** The variables of a deployment on several instances: the lease and the readiness state. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { configProblems } from '../../helpers/config.js';

describe('cluster variables', () => {
  it('PIXPROXY_CACHE_LEASE is off by default and needs an L2', () => {
    expect(loadConfig({}).cache.lease).toBe(false);
    expect(loadConfig({ PIXPROXY_CACHE_LEASE: 'true' }).cache.leaseTtlSecs).toBe(10);
    expect(configProblems({ PIXPROXY_CACHE_LEASE: 'true', IMGPROXY_CACHE_USE: 'none' })).toEqual([expect.stringMatching(/^PIXPROXY_CACHE_LEASE: needs an L2 cache/)]);
    expect(configProblems({ PIXPROXY_CACHE_LEASE_TTL_SECS: '0' })).toEqual([expect.stringMatching(/^PIXPROXY_CACHE_LEASE_TTL_SECS: /)]);
  });

  it('PIXPROXY_READINESS_PATH is a path of its own; PIXPROXY_DRAIN_SECS a number of seconds', () => {
    expect(loadConfig({}).server.readinessPath).toBe('/ready');
    expect(loadConfig({ PIXPROXY_READINESS_PATH: '/readyz' }).server.readinessPath).toBe('/readyz');
    expect(configProblems({ PIXPROXY_READINESS_PATH: 'ready' })).toEqual([expect.stringMatching(/^PIXPROXY_READINESS_PATH: expected a path starting with "\/"/)]);
    expect(configProblems({ PIXPROXY_READINESS_PATH: '/hc', IMGPROXY_HEALTH_CHECK_PATH: '/hc' })).toEqual([expect.stringMatching(/^PIXPROXY_READINESS_PATH: expected a path other than/)]);
    expect(loadConfig({ PIXPROXY_DRAIN_SECS: '5' }).server.drainSecs).toBe(5);
    expect(configProblems({ PIXPROXY_DRAIN_SECS: '-1' })).toEqual([expect.stringMatching(/^PIXPROXY_DRAIN_SECS: /)]);
  });
});

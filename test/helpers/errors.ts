/** Error capture for async calls that must fail with a client-visible ProxyError. */
import { expect } from 'vitest';
import { ProxyError } from '../../src/errors.js';

/** Awaits `p` and returns the ProxyError it rejects with; fails the test when it resolves or rejects with anything else. */
export async function rejection(p: Promise<unknown>): Promise<ProxyError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ProxyError);
    return err as ProxyError;
  }
  throw new Error('expected a rejection');
}

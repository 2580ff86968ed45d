// Shared helpers for the URL dialect tests (test/unit/dialects/, negotiate, url-signer): config from an env object, error capture.
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../src/config/index.js';
import { ProxyError } from '../../src/errors.js';

export const hex = (s: string): string => Buffer.from(s, 'utf8').toString('hex');

export function config(env: Record<string, string> = {}): Config {
  return loadConfig({ ...env });
}

/** Runs `fn`, asserts it throws a ProxyError with `status` (and `code` if given); returns it. */
export function expectProxyError(fn: () => unknown, status: number, code?: string): ProxyError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ProxyError);
  const err = caught as ProxyError;
  expect(err.status).toBe(status);
  if (code !== undefined) expect(err.code).toBe(code);
  return err;
}

export const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

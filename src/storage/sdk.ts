/**
 * The cloud SDKs are optional peer dependencies: a server that only uses the disk cache and
 * http sources installs none of them (`npm install` stays lean), and each backend imports its
 * SDK only when it is configured (s3.ts, gcs.ts, abs.ts). This module checks, while the
 * configuration is validated, that the SDK of every configured backend can be found, so a
 * missing one stops startup with the package to install instead of failing requests later.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError } from '../config/fields.js';

const require = createRequire(import.meta.url);

/** `^x.y.z` from our package.json's peerDependencies, so the advice matches what we test with. */
function peerRange(pkg: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { peerDependencies?: Record<string, string> };
    return manifest.peerDependencies?.[pkg];
  } catch {
    return undefined;
  }
}

function installed(pkg: string): boolean {
  try {
    require.resolve(pkg);
    return true;
  } catch (err) {
    // Present, but without a CommonJS entry: import() will still find it.
    return (err as NodeJS.ErrnoException).code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
  }
}

/**
 * Throws ConfigError naming `variable` and the package when `pkg` cannot be resolved from
 * here (where the backend's `import()` resolves it from).
 */
export function requireSdk(pkg: string, variable: string): void {
  if (installed(pkg)) return;
  const range = peerRange(pkg);
  const spec = range ? `${pkg}@${range}` : pkg;
  throw new ConfigError(`${variable}: needs the optional package ${pkg}, which is not installed; install it next to pixproxy (npm install ${spec})`);
}

/**
 * Optional packages: the cloud SDKs and the OpenTelemetry SDK are optional peer dependencies,
 * so a server that uses neither installs none of them (`npm install` stays lean), and each is
 * imported only by the feature that is configured (storage/s3.ts, gcs.ts, abs.ts,
 * observability/otel.ts). This module checks, before anything starts, that the package of
 * every configured feature can be found, so a missing one stops startup with the package to
 * install instead of failing requests later.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError } from './config/fields.js';

const require = createRequire(import.meta.url);

/** `^x.y.z` from our package.json's peerDependencies, so the advice matches what we test with. */
function peerRange(pkg: string): string | undefined {
  try {
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { peerDependencies?: Record<string, string> };
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
export function requireOptional(pkg: string, variable: string): void {
  if (installed(pkg)) return;
  const range = peerRange(pkg);
  const spec = range ? `${pkg}@${range}` : pkg;
  throw new ConfigError(`${variable}: needs the optional package ${pkg}, which is not installed; install it next to pixproxy (npm install ${spec})`);
}

/** Imports an optional package once `requireOptional` has found it. */
export async function loadOptional<T>(pkg: string, variable: string, importer: () => Promise<T>): Promise<T> {
  requireOptional(pkg, variable);
  return importer();
}

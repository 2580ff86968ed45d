/**
 * pixproxy's version, from its package.json (read once): `pixproxy --version`, and the
 * `%current_version` of IMGPROXY_USER_AGENT, which imgproxy replaces with its own version
 * (https://docs.imgproxy.net/configuration/options#IMGPROXY_USER_AGENT).
 */
import { readFileSync } from 'node:fs';

function read(): string {
  try {
    // src/version.ts and dist/version.js both sit one level below the package root.
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION: string = read();

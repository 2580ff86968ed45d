/**
 * The configuration schema: every variable pixproxy reads, one section a module under
 * ./schema/ (the sections of docs/configuration.md, in this order), each field with its
 * default and what it does (`.describe()`, the reference's "Meaning" column; the section type
 * refuses a field without one). Canonical names are imgproxy's (IMGPROXY_*); PreviewProxy's
 * PP_* names are aliases or, for the cache variables its documentation defines, canonical.
 *
 * Adding a variable: add a field to its section's module with its description (the type of
 * `Config` follows), read it from the frozen config where it is needed, regenerate the
 * reference with `npx tsx scripts/config-table.ts --write`. Nothing else reads process.env.
 */
import type { SchemaSection } from './fields.js';
import { admin } from './schema/admin.js';
import { cache } from './schema/cache.js';
import { download } from './schema/download.js';
import { observability } from './schema/observability.js';
import { previewproxy } from './schema/previewproxy.js';
import { previews } from './schema/previews.js';
import { processing } from './schema/processing.js';
import { security } from './schema/security.js';
import { server } from './schema/server.js';
import { storage } from './schema/storage.js';
import { urls } from './schema/urls.js';

export const schema = {
  server,
  security,
  urls,
  download,
  processing,
  previews,
  observability,
  previewproxy,
  cache,
  admin,
  storage,
} as const satisfies Readonly<Record<string, SchemaSection>>;

/**
 * Names imgproxy retired (v3 read them as aliases, v4 does not:
 * https://github.com/imgproxy/imgproxy/blob/master/CHANGELOG.md), still read here as aliases
 * of their replacement. Each one set logs a warning, or stops startup with
 * IMGPROXY_FAIL_ON_DEPRECATION.
 */
export const deprecatedNames: Readonly<Record<string, string>> = {
  IMGPROXY_CONCURRENCY: 'IMGPROXY_WORKERS',
  IMGPROXY_ENABLE_WEBP_DETECTION: 'IMGPROXY_AUTO_WEBP',
  IMGPROXY_ENABLE_AVIF_DETECTION: 'IMGPROXY_AUTO_AVIF',
};

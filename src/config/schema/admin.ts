/**
 * The schema's `admin` section: the admin API (docs/admin.md): its own listener, or a prefix
 * on the main port, and its bearer secret.
 */
import { custom, str, type SchemaSection } from '../fields.js';

export const admin = {
  bind: str(['PIXPROXY_ADMIN_BIND'])
    .describe('`host:port` of a separate listener for the admin API (purge, stats); empty = none. Keep it off public networks.'),
  pathPrefix: custom(['PIXPROXY_ADMIN_PATH_PREFIX'], '', 'a path starting with / (e.g. /_admin)', (raw) => {
    const p = raw.trim().replace(/\/+$/, '');
    return p.startsWith('/') && p.length > 1 ? p : undefined;
  }).describe('Also serves the admin API on the main port under this path (matched before IMGPROXY_PATH_PREFIX and every image route); empty = not on the main port.'),
  secret: str(['PIXPROXY_ADMIN_SECRET'])
    .describe('Bearer secret every admin call must send (`Authorization: Bearer <secret>`), compared in constant time; required, at least 32 characters, when the admin API is on.'),
} as const satisfies SchemaSection;

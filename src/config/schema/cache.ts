/**
 * The schema's `cache` section: the L1 memory cache and the L2 backend (fs or an object
 * store), their lifetimes and budget, the key's parts, the origin sub-store's memory tier,
 * leases, RFC 5861 stale windows, purges and cache tags (docs/cache.md).
 */
import { OBJECT_STORE_KINDS } from '../backend-fields.js';
import { bool, custom, int, list, oneOf, optInt, str, type SchemaSection } from '../fields.js';

const CACHE_USES = ['fs', ...OBJECT_STORE_KINDS, 'none'] as const;
type CacheUse = (typeof CACHE_USES)[number];

export const cache = {
  use: custom<CacheUse>(['IMGPROXY_CACHE_USE'], 'fs', `one of ${CACHE_USES.join(', ')} (or empty to disable)`, (raw) => {
    const v = raw.trim().toLowerCase();
    return (CACHE_USES as readonly string[]).includes(v) ? (v as CacheUse) : undefined;
  }, () => 'none').describe('L2 cache backend (results and the origin sub-store): the local disk by default, an object store, or none.'),
  pathPrefix: str(['IMGPROXY_CACHE_PATH_PREFIX'])
    .describe('Key prefix of cache entries in the bucket; the origin sub-store sits under `<prefix>/origin`.'),
  bucket: str(['IMGPROXY_CACHE_BUCKET'])
    .describe('Bucket or container of the L2 cache (required for object stores; a subdirectory of PP_CACHE_DIR for fs).'),
  keyHeaders: list(['IMGPROXY_CACHE_KEY_HEADERS'])
    .describe('Request headers whose values become part of the cache key.'),
  keyCookies: list(['IMGPROXY_CACHE_KEY_COOKIES'])
    .describe('Request cookies whose values become part of the cache key.'),
  reportErrors: bool(['IMGPROXY_CACHE_REPORT_ERRORS'], false)
    .describe('Logs cache failures at error level (otherwise debug); requests carry on without the cache either way.'),
  memoryMaxMb: int(['PP_CACHE_MEMORY_MAX_MB'], 256, { min: 0 })
    .describe('Size of the in-memory L1 cache of results, in MB; 0 = no L1.'),
  memoryTtlSecs: int(['PP_CACHE_MEMORY_TTL_SECS'], 3600, { min: 0 })
    .describe('Seconds a result stays in L1 from when it was stored; 0 = no L1.'),
  dir: str(['PP_CACHE_DIR', 'IMGPROXY_CACHE_FS_ROOT'], '/tmp/previewproxy')
    .describe('Directory of the fs L2 cache.'),
  diskTtlSecs: int(['PP_CACHE_DISK_TTL_SECS'], 86_400, { min: 0 })
    .describe('Seconds a result stays in L2, and the freshness of a source without caching headers; 0 = results not stored in L2.'),
  // Unset → unbounded (with a startup warning): PreviewProxy reads it as an Option, no budget when
  // unset (https://github.com/ViGrise/previewproxy/blob/main/src/common/config/loader.rs).
  diskMaxMb: optInt(['PP_CACHE_DISK_MAX_MB'], { min: 1 })
    .describe('Size budget in MB of the fs L2 (results and origin sub-store), kept by evicting the least recently used; unset = unbounded.'),
  cleanupIntervalSecs: int(['PP_CACHE_CLEANUP_INTERVAL_SECS'], 600, { min: 0 })
    .describe('Seconds between sweeps of expired entries and crash leftovers in the fs L2; 0 = no periodic sweep.'),
  keyVersion: str(['PIXPROXY_CACHE_KEY_VERSION'], '1')
    .describe('Part of every cache key: change it to retire every existing entry.'),
  // Set 0 on network file systems: the page cache is not authoritative there.
  fsSyncReadMaxKb: int(['PIXPROXY_FS_SYNC_READ_MAX_KB'], 256, { min: 0 })
    .describe('fs L2: entries up to this size (KB) that this process recently verified are read synchronously from the page cache (guarded against slow disks); 0 = always async.'),
  fsVerifyEveryRead: bool(['PIXPROXY_FS_VERIFY_EVERY_READ'], false)
    .describe('fs L2: re-hashes every read instead of trusting a file this process already verified.'),
  originMemoryMaxMb: int(['PIXPROXY_ORIGIN_MEMORY_MAX_MB'], 64, { min: 0 })
    .describe('Memory tier of recently used source bytes in front of the origin sub-store, in MB; 0 = none.'),
  backendTimeoutMs: int(['PIXPROXY_CACHE_BACKEND_TIMEOUT_MS'], 2000, { min: 1 })
    .describe('Milliseconds one cache call to a backend may take before it counts as a miss (and a failure).'),
  lease: bool(['PIXPROXY_CACHE_LEASE'], false)
    .describe('One computation per key across every instance sharing the L2: before computing a miss, an instance creates a lease object in the L2 with the store\'s conditional write; the others wait for its result (docs/scaling.md). Needs an L2 (fs shared by PIXPROXY_PROCESSES, or an object store).'),
  leaseTtlSecs: int(['PIXPROXY_CACHE_LEASE_TTL_SECS'], 10, { min: 1, max: 3600 })
    .describe('Seconds a lease holds: the longest another instance waits for its leader, and how long a dead leader blocks its key. Keep it above the slowest computation (IMGPROXY_TIMEOUT).'),
  readLayout1: bool(['PIXPROXY_CACHE_READ_LAYOUT1'], true)
    .describe('Also reads result entries of the key layout before grouping by source (one more L2 read per miss): they are served and moved to the grouped layout until they expire, or until the first purge retires them; set false once PP_CACHE_DISK_TTL_SECS has passed since the upgrade.'),
  infoTtlSecs: int(['PIXPROXY_CACHE_INFO_TTL_SECS'], 86_400, { min: 0 })
    .describe('Seconds an `/info` answer stays cached (L1 and L2, purged with its source); 0 = `/info` is not cached.'),
  staleWhileRevalidateSecs: int(['PIXPROXY_CACHE_STALE_WHILE_REVALIDATE_SECS'], 0, { min: 0 })
    .describe('RFC 5861 `stale-while-revalidate` for sources that send none: seconds past its source\'s freshness a result is still answered (`X-Cache: STALE`) while it is refreshed in the background. A result with a stale window (this, PIXPROXY_CACHE_STALE_IF_ERROR_SECS or the source\'s own directives) is fresh as long as its source; one without lives PP_CACHE_DISK_TTL_SECS.'),
  staleIfErrorSecs: int(['PIXPROXY_CACHE_STALE_IF_ERROR_SECS'], 0, { min: 0 })
    .describe('RFC 5861 `stale-if-error` for sources that send none: seconds past its source\'s freshness a result (or the source\'s bytes) is still answered when the source fails.'),
  purgePollMs: int(['PIXPROXY_CACHE_PURGE_POLL_MS'], 2000, { min: 0 })
    .describe('How often each instance reads the purge log in the shared L2, so a purge made through another instance leaves its L1 within this bound (docs/cache.md#purge); 0 = never (a single instance).'),
  allowBypassCache: bool(['IMGPROXY_ALLOW_BYPASS_CACHE'], false)
    .describe('Allows the `bypass_cache` option (imgproxy Pro), which recomputes a result from a fresh download and replaces the cached one; refused with 403 otherwise. Anyone holding a signed URL with it can make the server fetch and process at will.'),
  tagsFormat: oneOf(['IMGPROXY_CACHE_TAGS_FORMAT'], ['all', 'cloudflare', 'cloudfront', 'none'], 'all')
    .describe('How an entry\'s cache tags reach its responses (imgproxy Pro): `cloudflare` as `Cache-Tag`, `cloudfront` as `x-amz-meta-cache-tag`, `all` both, `none` neither.'),
  tagsHeader: custom(['PIXPROXY_CACHE_TAGS_HEADER'], '', 'a header name', (raw) => (/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(raw.trim()) ? raw.trim().toLowerCase() : undefined))
    .describe('A request header whose comma-separated values are cache tags of the result, besides the `cache_tags` option (e.g. set by the application in front); part of the cache key like IMGPROXY_CACHE_KEY_HEADERS.'),
} as const satisfies SchemaSection;

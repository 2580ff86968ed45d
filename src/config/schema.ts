/**
 * The configuration schema: every variable pixproxy reads, grouped by concern, with its
 * default. Canonical names are imgproxy's (IMGPROXY_*); PreviewProxy's PP_* names are
 * aliases or, for the cache variables its seed defines, canonical.
 *
 * Adding a variable: add a field here (the type of `Config` follows), read it from the
 * frozen config where it is needed, document it in the README. Nothing else reads
 * process.env.
 */
import { bool, custom, float, hexList, int, list, map, oneOf, optInt, str } from './fields.js';

const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'svg', 'jxl', 'bmp', 'ico', 'heic'] as const;
const FORMAT_ALIASES: Readonly<Record<string, string>> = { jpg: 'jpeg' };

function parseFormatList(raw: string): string[] | undefined {
  const out: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    const f = FORMAT_ALIASES[item] ?? item;
    if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) return undefined;
    out.push(f);
  }
  return out;
}

function parseQuality(v: string): number | undefined {
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 100 ? n : undefined;
}

const PP_BASE_RE = /^(?:https?:\/\/|s3:\/|local:\/)/;
const PP_RESERVED_ALIASES = new Set(['s3', 'local', 'http', 'https', 'enc']);

/** PreviewProxy skips a bad alias with a warning; we refuse to start instead. */
function parseUrlAliases(raw: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf('=');
    const name = item.slice(0, eq).trim();
    const base = item.slice(eq + 1).trim();
    if (eq <= 0 || !/^[A-Za-z0-9_.+-]+$/.test(name) || PP_RESERVED_ALIASES.has(name.toLowerCase()) || !PP_BASE_RE.test(base)) return undefined;
    out[name] = base;
  }
  return out;
}

export const schema = {
  server: {
    /** `host:port` or `:port`. PP_PORT is an alias giving only the port. */
    bind: str(['IMGPROXY_BIND'], ':8080'),
    port: optInt(['PP_PORT', 'PORT'], { min: 0, max: 65535 }),
    pathPrefix: custom(['IMGPROXY_PATH_PREFIX'], '', 'a path starting with / (e.g. /img)', (raw) => {
      const p = raw.trim().replace(/\/+$/, '');
      return p === '' || p.startsWith('/') ? p : undefined;
    }),
    maxClients: int(['IMGPROXY_MAX_CLIENTS'], 2048, { min: 0 }),
    /** Images processed at once; 0 = automatic (2 × cores). */
    workers: int(['IMGPROXY_WORKERS', 'IMGPROXY_CONCURRENCY'], 0, { min: 0 }),
    /** Requests allowed to wait for a worker; 0 = unlimited. */
    requestsQueueSize: int(['IMGPROXY_REQUESTS_QUEUE_SIZE'], 0, { min: 0 }),
    /** Whole-request timeout in seconds → 503. */
    timeout: int(['IMGPROXY_TIMEOUT'], 10, { min: 1 }),
    keepAliveTimeout: int(['IMGPROXY_KEEP_ALIVE_TIMEOUT'], 10, { min: 0 }),
    readRequestTimeout: int(['IMGPROXY_READ_REQUEST_TIMEOUT'], 10, { min: 1 }),
    gracefulStopTimeout: int(['IMGPROXY_GRACEFUL_STOP_TIMEOUT'], 20, { min: 0 }),
    allowOrigin: str(['IMGPROXY_ALLOW_ORIGIN']),
    secret: str(['IMGPROXY_SECRET']),
    healthCheckPath: str(['IMGPROXY_HEALTH_CHECK_PATH']),
    logLevel: oneOf(['IMGPROXY_LOG_LEVEL', 'PP_LOG_LEVEL'], ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
    prometheusBind: str(['IMGPROXY_PROMETHEUS_BIND', 'PP_PROMETHEUS_BIND']),
    prometheusNamespace: str(['IMGPROXY_PROMETHEUS_NAMESPACE']),
    enableDebugHeaders: bool(['IMGPROXY_ENABLE_DEBUG_HEADERS'], false),
    developmentErrorsMode: bool(['IMGPROXY_DEVELOPMENT_ERRORS_MODE'], false),
    /** Node cluster processes sharing the listen socket and the L2; 1 = single process. */
    processes: int(['PIXPROXY_PROCESSES'], 1, { min: 1, max: 256 }),
    /**
     * Which dialect owns the root path-style catch-all: the two path grammars overlap, so the
     * operator chooses. `/proxy?url=` is PreviewProxy's whatever this says.
     */
    pathDialect: oneOf(['PIXPROXY_PATH_DIALECT'], ['imgproxy', 'previewproxy'], 'imgproxy'),
  },

  security: {
    keys: hexList(['IMGPROXY_KEY']),
    salts: hexList(['IMGPROXY_SALT']),
    signatureSize: int(['IMGPROXY_SIGNATURE_SIZE'], 32, { min: 1, max: 32 }),
    trustedSignatures: list(['IMGPROXY_TRUSTED_SIGNATURES']),
    allowedSources: list(['IMGPROXY_ALLOWED_SOURCES']),
    allowLoopbackSourceAddresses: bool(['IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES'], false),
    allowLinkLocalSourceAddresses: bool(['IMGPROXY_ALLOW_LINK_LOCAL_SOURCE_ADDRESSES'], false),
    /** imgproxy allows private ranges by default; we block them (reference §12 "beat"). */
    allowPrivateSourceAddresses: bool(['IMGPROXY_ALLOW_PRIVATE_SOURCE_ADDRESSES'], false),
    /** Bytes; 0 = unlimited. */
    maxSrcFileSize: int(['IMGPROXY_MAX_SRC_FILE_SIZE', 'PP_MAX_SOURCE_BYTES'], 0, { min: 0 }),
    /** Megapixels. */
    maxSrcResolution: float(['IMGPROXY_MAX_SRC_RESOLUTION'], 50, { min: 0 }),
    maxAnimationFrames: int(['IMGPROXY_MAX_ANIMATION_FRAMES'], 1, { min: 1 }),
    maxAnimationFrameResolution: float(['IMGPROXY_MAX_ANIMATION_FRAME_RESOLUTION'], 0, { min: 0 }),
    maxResultDimension: int(['IMGPROXY_MAX_RESULT_DIMENSION'], 0, { min: 0 }),
    allowSecurityOptions: bool(['IMGPROXY_ALLOW_SECURITY_OPTIONS'], false),
    sanitizeSvg: bool(['IMGPROXY_SANITIZE_SVG'], true),
    svgUnlimited: bool(['IMGPROXY_SVG_UNLIMITED'], false),
  },

  urls: {
    baseUrl: str(['IMGPROXY_BASE_URL']),
    urlReplacements: str(['IMGPROXY_URL_REPLACEMENTS']),
    base64UrlIncludesFilename: bool(['IMGPROXY_BASE64_URL_INCLUDES_FILENAME'], false),
    argumentsSeparator: custom(['IMGPROXY_ARGUMENTS_SEPARATOR'], ':', 'a single character other than /', (raw) =>
      raw.length === 1 && raw !== '/' ? raw : undefined,
    ),
    presets: str(['IMGPROXY_PRESETS']),
    presetsPath: str(['IMGPROXY_PRESETS_PATH']),
    presetsSeparator: custom(['IMGPROXY_PRESETS_SEPARATOR'], ',', 'a non-empty separator', (raw) => (raw.length > 0 ? raw : undefined)),
    onlyPresets: bool(['IMGPROXY_ONLY_PRESETS'], false),
    allowedProcessingOptions: list(['IMGPROXY_ALLOWED_PROCESSING_OPTIONS']),
    sourceUrlQuerySeparator: custom(['IMGPROXY_SOURCE_URL_QUERY_SEPARATOR'], '?', 'a separator string, or empty to disable', (raw) => raw, () => ''),
  },

  download: {
    /** Seconds. */
    downloadTimeout: int(['IMGPROXY_DOWNLOAD_TIMEOUT'], 5, { min: 1 }),
    maxRedirects: int(['IMGPROXY_MAX_REDIRECTS'], 10, { min: 0 }),
    userAgent: str(['IMGPROXY_USER_AGENT'], 'pixproxy/0.1'),
    localFilesystemRoot: str(['IMGPROXY_LOCAL_FILESYSTEM_ROOT', 'PP_LOCAL_BASE_DIR']),
    clientKeepAliveTimeout: int(['IMGPROXY_CLIENT_KEEP_ALIVE_TIMEOUT'], 90, { min: 0 }),
    ignoreSslVerification: bool(['IMGPROXY_IGNORE_SSL_VERIFICATION'], false),
    useEtag: bool(['IMGPROXY_USE_ETAG'], true),
    useLastModified: bool(['IMGPROXY_USE_LAST_MODIFIED'], true),
    etagBuster: str(['IMGPROXY_ETAG_BUSTER']),
    cacheControlPassthrough: bool(['IMGPROXY_CACHE_CONTROL_PASSTHROUGH'], false),
    setCanonicalHeader: bool(['IMGPROXY_SET_CANONICAL_HEADER'], false),
  },

  processing: {
    /** Seconds for Cache-Control max-age; 0 → no-cache. */
    ttl: int(['IMGPROXY_TTL', 'PP_TTL'], 31_536_000, { min: 0 }),
    quality: int(['IMGPROXY_QUALITY'], 80, { min: 1, max: 100 }),
    formatQuality: map<number>(['IMGPROXY_FORMAT_QUALITY'], { webp: 79, avif: 63, jxl: 77 }, 'format=quality pairs, e.g. jpeg=80,avif=60', parseQuality),
    preferredFormats: custom(['IMGPROXY_PREFERRED_FORMATS'], ['jpeg', 'png', 'gif'] as readonly string[], `a comma-separated list of ${OUTPUT_FORMATS.join(', ')}`, parseFormatList),
    skipProcessingFormats: custom(['IMGPROXY_SKIP_PROCESSING_FORMATS'], [] as readonly string[], 'a comma-separated list of formats', parseFormatList),
    autoRotate: bool(['IMGPROXY_AUTO_ROTATE'], true),
    stripMetadata: bool(['IMGPROXY_STRIP_METADATA'], true),
    keepCopyright: bool(['IMGPROXY_KEEP_COPYRIGHT'], true),
    stripColorProfile: bool(['IMGPROXY_STRIP_COLOR_PROFILE'], true),
    preserveHdr: bool(['IMGPROXY_PRESERVE_HDR'], false),
    enforceThumbnail: bool(['IMGPROXY_ENFORCE_THUMBNAIL'], false),
    disableShrinkOnLoad: bool(['IMGPROXY_DISABLE_SHRINK_ON_LOAD'], false),
    autoWebp: bool(['IMGPROXY_AUTO_WEBP', 'IMGPROXY_ENABLE_WEBP_DETECTION'], false),
    autoAvif: bool(['IMGPROXY_AUTO_AVIF', 'IMGPROXY_ENABLE_AVIF_DETECTION'], false),
    autoJxl: bool(['IMGPROXY_AUTO_JXL'], false),
    enforceWebp: bool(['IMGPROXY_ENFORCE_WEBP'], false),
    enforceAvif: bool(['IMGPROXY_ENFORCE_AVIF'], false),
    enforceJxl: bool(['IMGPROXY_ENFORCE_JXL'], false),
    enableClientHints: bool(['IMGPROXY_ENABLE_CLIENT_HINTS'], false),
    /** AVIF encoder speed 0 (slow, small) – 9 (fast); sharp effort = 9 − speed. */
    avifSpeed: int(['IMGPROXY_AVIF_SPEED'], 8, { min: 0, max: 9 }),
    webpEffort: int(['IMGPROXY_WEBP_EFFORT'], 4, { min: 0, max: 6 }),
    webpPreset: oneOf(['IMGPROXY_WEBP_PRESET'], ['default', 'photo', 'picture', 'drawing', 'icon', 'text'], 'default'),
    jpegProgressive: bool(['IMGPROXY_JPEG_PROGRESSIVE'], false),
    pngInterlaced: bool(['IMGPROXY_PNG_INTERLACED'], false),
    pngQuantize: bool(['IMGPROXY_PNG_QUANTIZE'], false),
    pngQuantizationColors: int(['IMGPROXY_PNG_QUANTIZATION_COLORS'], 256, { min: 2, max: 256 }),
    alwaysRasterizeSvg: bool(['IMGPROXY_ALWAYS_RASTERIZE_SVG'], false),
    watermarkData: str(['IMGPROXY_WATERMARK_DATA']),
    watermarkPath: str(['IMGPROXY_WATERMARK_PATH']),
    watermarkUrl: str(['IMGPROXY_WATERMARK_URL']),
    watermarkOpacity: float(['IMGPROXY_WATERMARK_OPACITY'], 1, { min: 0, max: 1 }),
  },

  /** The PreviewProxy URL dialect (reference previewproxy.md §2, §4). */
  previewproxy: {
    /** HMAC-SHA256 key (raw UTF-8); empty = signatures not required. */
    hmacKey: str(['PP_HMAC_KEY']),
    /** Hosts for http(s) sources; `*.x.com` matches exactly one label; empty = all. */
    allowedHosts: custom(['PP_ALLOWED_HOSTS'], [] as readonly string[], 'a comma-separated list of hosts or *.domain wildcards', (raw) =>
      raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''),
    ),
    /** AES-128/192/256-CBC key for `enc/` sources; null = encrypted sources refused. */
    sourceUrlEncryptionKey: custom(['PP_SOURCE_URL_ENCRYPTION_KEY'], null as Buffer | null, 'a hex-encoded key of 16, 24 or 32 bytes', (raw) => {
      const v = raw.trim();
      if (!/^(?:[0-9a-fA-F]{2})+$/.test(v) || ![16, 24, 32].includes(v.length / 2)) return undefined;
      return Buffer.from(v, 'hex');
    }),
    /** The one bucket `s3:/key` sources read from. */
    s3Bucket: str(['PP_S3_BUCKET']),
    /** Base for relative sources (`/photos/a.jpg`); empty = relative sources refused. */
    defaultSourceUrl: custom(['PP_DEFAULT_SOURCE_URL'], '', 'a base starting with http://, https://, s3:/ or local:/', (raw) => {
      const v = raw.trim();
      return PP_BASE_RE.test(v) ? v : undefined;
    }),
    /** `name=base,…`: `name:/path` sources resolve to `base/path`. */
    urlAliases: custom(['PP_URL_ALIASES'], {} as Readonly<Record<string, string>>, 'name=base pairs separated by commas; names of letters, digits, _ . + -, not s3, local, http, https or enc; bases starting with http://, https://, s3:/ or local:/', parseUrlAliases),
  },

  cache: {
    /**
     * L2 adapter. Unset → `fs` (the embedded default); explicitly empty or `none` → no L2.
     */
    use: custom(['IMGPROXY_CACHE_USE'], 'fs' as 'fs' | 's3' | 'gcs' | 'abs' | 'swift' | 'none', 'one of fs, s3, gcs, abs, swift, none (or empty to disable)', (raw) => {
      const v = raw.trim().toLowerCase();
      return v === 'fs' || v === 's3' || v === 'gcs' || v === 'abs' || v === 'swift' || v === 'none' ? v : undefined;
    }, () => 'none'),
    pathPrefix: str(['IMGPROXY_CACHE_PATH_PREFIX']),
    bucket: str(['IMGPROXY_CACHE_BUCKET']),
    keyHeaders: list(['IMGPROXY_CACHE_KEY_HEADERS']),
    keyCookies: list(['IMGPROXY_CACHE_KEY_COOKIES']),
    reportErrors: bool(['IMGPROXY_CACHE_REPORT_ERRORS'], false),
    memoryMaxMb: int(['PP_CACHE_MEMORY_MAX_MB'], 256, { min: 0 }),
    memoryTtlSecs: int(['PP_CACHE_MEMORY_TTL_SECS'], 3600, { min: 0 }),
    dir: str(['PP_CACHE_DIR', 'IMGPROXY_CACHE_FS_ROOT'], '/tmp/previewproxy'),
    diskTtlSecs: int(['PP_CACHE_DISK_TTL_SECS'], 86_400, { min: 0 }),
    /** Unset → unbounded (with a startup warning), as the seed says. */
    diskMaxMb: optInt(['PP_CACHE_DISK_MAX_MB'], { min: 1 }),
    cleanupIntervalSecs: int(['PP_CACHE_CLEANUP_INTERVAL_SECS'], 600, { min: 0 }),
    /** Key version: bump to retire every existing entry after a release. */
    keyVersion: str(['PIXPROXY_CACHE_KEY_VERSION'], '1'),
    /**
     * fs L2: entries up to this size that this process recently verified are read with one
     * synchronous call from the page cache (guarded against slow disks); 0 = always async.
     * Set 0 on network file systems.
     */
    fsSyncReadMaxKb: int(['PIXPROXY_FS_SYNC_READ_MAX_KB'], 256, { min: 0 }),
    /** fs L2: re-hash every read instead of trusting a file this process already verified. */
    fsVerifyEveryRead: bool(['PIXPROXY_FS_VERIFY_EVERY_READ'], false),
    /** Recently used raw sources kept in memory in front of the origin sub-store (MB). */
    originMemoryMaxMb: int(['PIXPROXY_ORIGIN_MEMORY_MAX_MB'], 64, { min: 0 }),
    /** Upper bound of a single cache call to a remote backend before we give up on it (ms). */
    backendTimeoutMs: int(['PIXPROXY_CACHE_BACKEND_TIMEOUT_MS'], 2000, { min: 1 }),
  },

  storage: {
    // Sources
    useS3: bool(['IMGPROXY_USE_S3'], false),
    s3Region: str(['IMGPROXY_S3_REGION', 'AWS_REGION'], 'us-west-1'),
    s3Endpoint: str(['IMGPROXY_S3_ENDPOINT']),
    s3EndpointUsePathStyle: bool(['IMGPROXY_S3_ENDPOINT_USE_PATH_STYLE'], true),
    s3AllowedBuckets: list(['IMGPROXY_S3_ALLOWED_BUCKETS']),
    s3DeniedBuckets: list(['IMGPROXY_S3_DENIED_BUCKETS']),
    useGcs: bool(['IMGPROXY_USE_GCS'], false),
    gcsKey: str(['IMGPROXY_GCS_KEY']),
    gcsEndpoint: str(['IMGPROXY_GCS_ENDPOINT']),
    gcsAllowedBuckets: list(['IMGPROXY_GCS_ALLOWED_BUCKETS']),
    gcsDeniedBuckets: list(['IMGPROXY_GCS_DENIED_BUCKETS']),
    useAbs: bool(['IMGPROXY_USE_ABS'], false),
    absName: str(['IMGPROXY_ABS_NAME']),
    absKey: str(['IMGPROXY_ABS_KEY']),
    absEndpoint: str(['IMGPROXY_ABS_ENDPOINT']),
    absAllowedBuckets: list(['IMGPROXY_ABS_ALLOWED_BUCKETS']),
    absDeniedBuckets: list(['IMGPROXY_ABS_DENIED_BUCKETS']),
    useSwift: bool(['IMGPROXY_USE_SWIFT'], false),
    swiftUsername: str(['IMGPROXY_SWIFT_USERNAME']),
    swiftApiKey: str(['IMGPROXY_SWIFT_API_KEY']),
    swiftAuthUrl: str(['IMGPROXY_SWIFT_AUTH_URL']),
    swiftAuthVersion: int(['IMGPROXY_SWIFT_AUTH_VERSION'], 0, { min: 0, max: 3 }),
    swiftTenant: str(['IMGPROXY_SWIFT_TENANT']),
    swiftDomain: str(['IMGPROXY_SWIFT_DOMAIN']),
    swiftConnectTimeoutSeconds: int(['IMGPROXY_SWIFT_CONNECT_TIMEOUT_SECONDS'], 10, { min: 1 }),
    swiftTimeoutSeconds: int(['IMGPROXY_SWIFT_TIMEOUT_SECONDS'], 60, { min: 1 }),
    swiftAllowedBuckets: list(['IMGPROXY_SWIFT_ALLOWED_BUCKETS']),
    swiftDeniedBuckets: list(['IMGPROXY_SWIFT_DENIED_BUCKETS']),
    /** Explicit S3 keys (sources and cache); when unset the SDK's default credential chain applies. */
    awsAccessKeyId: str(['AWS_ACCESS_KEY_ID']),
    awsSecretAccessKey: str(['AWS_SECRET_ACCESS_KEY']),
    awsSessionToken: str(['AWS_SESSION_TOKEN']),
    // Cache adapters (IMGPROXY_CACHE_*)
    cacheS3Region: str(['IMGPROXY_CACHE_S3_REGION', 'AWS_REGION'], 'us-west-1'),
    cacheS3Endpoint: str(['IMGPROXY_CACHE_S3_ENDPOINT']),
    cacheS3EndpointUsePathStyle: bool(['IMGPROXY_CACHE_S3_ENDPOINT_USE_PATH_STYLE'], true),
    cacheGcsKey: str(['IMGPROXY_CACHE_GCS_KEY']),
    cacheGcsEndpoint: str(['IMGPROXY_CACHE_GCS_ENDPOINT']),
    cacheAbsName: str(['IMGPROXY_CACHE_ABS_NAME']),
    cacheAbsKey: str(['IMGPROXY_CACHE_ABS_KEY']),
    cacheAbsEndpoint: str(['IMGPROXY_CACHE_ABS_ENDPOINT']),
    cacheSwiftUsername: str(['IMGPROXY_CACHE_SWIFT_USERNAME']),
    cacheSwiftApiKey: str(['IMGPROXY_CACHE_SWIFT_API_KEY']),
    cacheSwiftAuthUrl: str(['IMGPROXY_CACHE_SWIFT_AUTH_URL']),
    cacheSwiftAuthVersion: int(['IMGPROXY_CACHE_SWIFT_AUTH_VERSION'], 0, { min: 0, max: 3 }),
    cacheSwiftTenant: str(['IMGPROXY_CACHE_SWIFT_TENANT']),
    cacheSwiftDomain: str(['IMGPROXY_CACHE_SWIFT_DOMAIN']),
    cacheSwiftConnectTimeoutSeconds: int(['IMGPROXY_CACHE_SWIFT_CONNECT_TIMEOUT_SECONDS'], 10, { min: 1 }),
    cacheSwiftTimeoutSeconds: int(['IMGPROXY_CACHE_SWIFT_TIMEOUT_SECONDS'], 60, { min: 1 }),
  },
} as const;


/**
 * The configuration schema: every variable pixproxy reads, grouped by concern, with its
 * default and what it does (`.describe()`, the README's "Meaning" column; the type below
 * refuses a field without one). Canonical names are imgproxy's (IMGPROXY_*); PreviewProxy's
 * PP_* names are aliases or, for the cache variables of PreviewProxy's caching overview
 * (https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview), canonical.
 *
 * Adding a variable: add a field here with its description (the type of `Config`
 * follows), read it from the frozen config where it is needed, regenerate the README's
 * reference with `npx tsx scripts/config-table.ts --write`. Nothing else reads
 * process.env.
 */
import { bucketListFields, cacheStoreFields, sourceStoreFields } from './backend-fields.js';
import { NETWORKS, type Network } from './listen.js';
import { INPUT_TOKENS, OUTPUT_TOKENS, parseAliasList, PP_BASE_RE, ppBool, tokenList, TRANSFORM_TOKENS } from './previewproxy-fields.js';
import { AVIF_SUBSAMPLES, autoqualityMethod, ppBestFormats, WEBP_COMPRESSIONS, WEBP_PRESETS } from './encoder-fields.js';
import { bool, custom, float, hexList, int, list, map, oneOf, optInt, str, type DescribedField } from './fields.js';

const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'svg', 'jxl', 'bmp', 'ico', 'heic'] as const;
const FORMAT_ALIASES: Readonly<Record<string, string>> = { jpg: 'jpeg' };

/** imgproxy Pro's IMGPROXY_UNSHARP_MASKING_MODE values (and the `unsharp_masking` option's). */
export const UNSHARP_MASKING_MODES = ['auto', 'none', 'always'] as const;

function positive(raw: string): number | undefined {
  const n = Number(raw.trim());
  return raw.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}

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

const CACHE_USES = ['fs', 's3', 'gcs', 'abs', 'swift', 'none'] as const;
type CacheUse = (typeof CACHE_USES)[number];

const AES_KEY = 'a hex-encoded key of 16, 24 or 32 bytes';

/** AES-128/192/256 key, hex-encoded (both dialects' encrypted source URLs). */
function parseAesKey(raw: string): Buffer | undefined {
  const v = raw.trim();
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(v) || ![16, 24, 32].includes(v.length / 2)) return undefined;
  return Buffer.from(v, 'hex');
}

const LOG_FORMATS = ['pretty', 'structured', 'json', 'gcp'] as const;
type LogFormatSetting = (typeof LOG_FORMATS)[number] | 'auto';
const SYSLOG_LEVELS = ['debug', 'info', 'warn', 'error', 'crit'] as const;
type SyslogLevel = (typeof SYSLOG_LEVELS)[number];
type OtlpProtocol = 'grpc' | 'http/protobuf';
/** imgproxy's protocol names (monitoring/otel/config.go): `http` and `https` are http/protobuf. */
function parseOtlpProtocol(raw: string): OtlpProtocol | undefined {
  const v = raw.trim().toLowerCase();
  return v === 'grpc' ? 'grpc' : v === 'http/protobuf' || v === 'http' || v === 'https' ? 'http/protobuf' : undefined;
}
const PROPAGATORS = ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'xray', 'ottrace', 'none'] as const;
type Propagator = Exclude<(typeof PROPAGATORS)[number], 'none'>;

/** Go's time.RFC3339 (imgproxy's env.DateTime): `2006-01-02T15:04:05Z` or with an offset, fractions allowed; epoch ms. */
function parseRfc3339(raw: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(raw.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, sec, frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec), Math.floor(Number(`0${frac}`) * 1000));
  const check = new Date(ms);
  if (check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined;
  const offset = zone === 'Z' ? 0 : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  return ms - offset;
}

/** imgproxy accepts 0 (the original error's status) or a valid status code. */
function parseHttpCode(raw: string): number | undefined {
  const v = raw.trim();
  if (!/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n === 0 || (n >= 100 && n <= 599) ? n : undefined;
}

export const schema = {
  server: {
    bind: str(['IMGPROXY_BIND'], ':8080')
      .describe('Address the image server listens on: `host:port`, `:port` for every interface, `[v6]:port` (the port is required); with IMGPROXY_NETWORK=unix, the socket path.'),
    network: custom(['IMGPROXY_NETWORK'], 'tcp' as Network, 'one of tcp, tcp4, tcp6, unix (not unixpacket: Node cannot listen on SOCK_SEQPACKET)', (raw) => {
      const v = raw.trim().toLowerCase();
      return (NETWORKS as readonly string[]).includes(v) ? (v as Network) : undefined;
    }).describe('Network of IMGPROXY_BIND: `tcp` (IPv4 and IPv6), `tcp4`, `tcp6` (IPv6 only) or `unix` (a Unix socket).'),
    port: optInt(['PP_PORT', 'PORT'], { min: 0, max: 65535 })
      .describe('Port to listen on (every interface) when IMGPROXY_BIND is unset; IMGPROXY_BIND wins when both are set, as in imgproxy.'),
    pathPrefix: custom(['IMGPROXY_PATH_PREFIX'], '', 'a path starting with / (e.g. /img)', (raw) => {
      const p = raw.trim().replace(/\/+$/, '');
      return p === '' || p.startsWith('/') ? p : undefined;
    }).describe('Prefix in front of every route (e.g. `/img`); paths outside it answer 404.'),
    maxClients: int(['IMGPROXY_MAX_CLIENTS'], 2048, { min: 0 })
      .describe('Most client connections served at once; further ones wait (up to 511 of them, the listen backlog) until one closes, as in imgproxy. 0 = unlimited.'),
    workers: int(['IMGPROXY_WORKERS', 'IMGPROXY_CONCURRENCY'], 0, { min: 0 })
      .describe('Images processed at once; 0 = 2 × CPU cores. Cache hits do not wait for a worker.'),
    requestsQueueSize: int(['IMGPROXY_REQUESTS_QUEUE_SIZE'], 0, { min: 0 })
      .describe('Misses admitted beyond IMGPROXY_WORKERS (downloading, or waiting for a download slot or a worker); one more is answered 429 at once. 0 = unlimited.'),
    maxDownloads: int(['PIXPROXY_MAX_DOWNLOADS'], 64, { min: 0 })
      .describe('Source downloads at once. A download does not hold a worker (the worker is taken once the source is in memory), so slow origins do not block processing. 0 = unlimited.'),
    timeout: int(['IMGPROXY_TIMEOUT'], 10, { min: 1 })
      .describe('Seconds an image request may take on a miss (queue, download, processing) before a 503.'),
    keepAliveTimeout: int(['IMGPROXY_KEEP_ALIVE_TIMEOUT'], 10, { min: 0 })
      .describe('Seconds an idle client keep-alive connection stays open; 0 turns keep-alive off (each response closes its connection), as in imgproxy.'),
    writeResponseTimeout: int(['IMGPROXY_WRITE_RESPONSE_TIMEOUT'], 10, { min: 1 })
      .describe('Seconds a response may take to write once its headers are sent; a client reading slower is disconnected.'),
    readRequestTimeout: int(['IMGPROXY_READ_REQUEST_TIMEOUT'], 10, { min: 1 })
      .describe('Seconds a client has to send the request headers; a whole request may take this plus IMGPROXY_TIMEOUT.'),
    gracefulStopTimeout: int(['IMGPROXY_GRACEFUL_STOP_TIMEOUT'], 20, { min: 0 })
      .describe('Seconds shutdown waits for responses in flight before closing the remaining connections.'),
    drainSecs: int(['PIXPROXY_DRAIN_SECS'], 0, { min: 0, max: 3600 })
      .describe('Seconds between SIGTERM and closing the listener: the readiness path answers 503 while requests are still served, so a balancer that polls it stops sending traffic first (docs/deploy.md). 0 = close at once, as imgproxy does.'),
    readinessPath: str(['PIXPROXY_READINESS_PATH'], '/ready')
      .describe('Path answering 200 while the instance takes traffic and 503 from SIGTERM on (liveness stays `/health`).'),
    allowOrigin: str(['IMGPROXY_ALLOW_ORIGIN'])
      .describe('`Access-Control-Allow-Origin` sent on every response (with `Access-Control-Allow-Methods: GET, OPTIONS`); empty = no CORS headers.'),
    secret: str(['IMGPROXY_SECRET'])
      .describe('When set, image and `/info` requests need `Authorization: Bearer <secret>` (403 otherwise).'),
    healthCheckPath: str(['IMGPROXY_HEALTH_CHECK_PATH'])
      .describe('A path answering the health check in addition to `/health`.'),
    logLevel: oneOf(['IMGPROXY_LOG_LEVEL', 'PP_LOG_LEVEL'], ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info')
      .describe('Lowest level written to the JSON log (stdout).'),
    prometheusBind: str(['IMGPROXY_PROMETHEUS_BIND', 'PP_PROMETHEUS_BIND'])
      .describe('`host:port` or `:port` of a separate listener for Prometheus metrics (the port is required); empty = `/metrics` on the main server.'),
    prometheusNamespace: str(['IMGPROXY_PROMETHEUS_NAMESPACE'])
      .describe('Prefix (`<namespace>_`) of every metric name.'),
    enableDebugHeaders: bool(['IMGPROXY_ENABLE_DEBUG_HEADERS'], false)
      .describe('Adds `X-Origin-Width`, `X-Origin-Height`, `X-Origin-Content-Length`, `X-Result-Width` and `X-Result-Height` to image responses.'),
    developmentErrorsMode: bool(['IMGPROXY_DEVELOPMENT_ERRORS_MODE'], false)
      .describe('Error bodies carry the internal detail after the public message (development only: it shows internals).'),
    processes: int(['PIXPROXY_PROCESSES'], 1, { min: 1, max: 256 })
      .describe('Node cluster processes sharing the listen socket and the L2 cache; 1 = a single process.'),
    malloc: oneOf(['PIXPROXY_MALLOC'], ['glibc', 'jemalloc'], 'glibc')
      .describe('Allocator `pixproxy serve` (and `npm start`) runs the server with: `jemalloc` preloads libjemalloc.so.2 when it is installed (Debian: libjemalloc2), with a warning otherwise. Either way glibc gets `MALLOC_ARENA_MAX=2` unless it is set.'),
    // The two path grammars overlap, so the operator chooses which one owns the root.
    pathDialect: oneOf(['PIXPROXY_PATH_DIALECT'], ['imgproxy', 'previewproxy'], 'imgproxy')
      .describe('URL dialect of root paths; `/proxy?url=` is PreviewProxy\'s whatever this says.'),
    envLocalFilePath: str(['IMGPROXY_ENV_LOCAL_FILE_PATH'])
      .describe('An env file read at startup after `.env`; its values win over the environment, as imgproxy loads it. Missing file = startup error.'),
    failOnDeprecation: bool(['IMGPROXY_FAIL_ON_DEPRECATION'], false)
      .describe('A deprecated variable name (IMGPROXY_CONCURRENCY, IMGPROXY_ENABLE_WEBP_DETECTION, IMGPROXY_ENABLE_AVIF_DETECTION) stops startup instead of logging a warning.'),
  },

  security: {
    keys: hexList(['IMGPROXY_KEY'])
      .describe('HMAC keys of imgproxy URL signatures, tried in order with the salt at the same position; empty = signatures not checked.'),
    salts: hexList(['IMGPROXY_SALT'])
      .describe('Salts paired with IMGPROXY_KEY (as many as keys).'),
    signatureSize: int(['IMGPROXY_SIGNATURE_SIZE'], 32, { min: 1, max: 32 })
      .describe('Bytes of the HMAC-SHA256 kept in a signature.'),
    // https://docs.imgproxy.net/usage/encrypting_source_url (imgproxy Pro)
    sourceUrlEncryptionKey: custom(['IMGPROXY_SOURCE_URL_ENCRYPTION_KEY'], null as Buffer | null, AES_KEY, parseAesKey)
      .describe('AES-CBC key (AES-128/192/256) of imgproxy Pro\'s encrypted `/enc/` source URLs, for images and `/info`; also used by `pixproxy encrypt-url`. Unset = `/enc/` sources answer 404. Sign such URLs too.'),
    trustedSignatures: list(['IMGPROXY_TRUSTED_SIGNATURES'])
      .describe('Signatures accepted as they are, without checking the HMAC.'),
    allowedSources: list(['IMGPROXY_ALLOWED_SOURCES'])
      .describe('Source URL prefixes allowed (`*` matches anything but `/`), checked on every redirect too; empty = every source.'),
    allowLoopbackSourceAddresses: bool(['IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES'], false)
      .describe('Lets http(s) sources connect to loopback addresses (checked at connect time).'),
    allowLinkLocalSourceAddresses: bool(['IMGPROXY_ALLOW_LINK_LOCAL_SOURCE_ADDRESSES'], false)
      .describe('Lets http(s) sources connect to link-local addresses (cloud metadata endpoints live there).'),
    // imgproxy allows private ranges by default (`AllowPrivateSourceAddresses: true`,
    // https://github.com/imgproxy/imgproxy/blob/master/fetcher/transport/generichttp/config.go); we block them.
    allowPrivateSourceAddresses: bool(['IMGPROXY_ALLOW_PRIVATE_SOURCE_ADDRESSES'], false)
      .describe('Lets http(s) sources connect to private-network addresses (blocked by default, unlike imgproxy).'),
    maxSrcFileSize: int(['IMGPROXY_MAX_SRC_FILE_SIZE', 'PP_MAX_SOURCE_BYTES'], 0, { min: 0 })
      .describe('Largest source in bytes, decoded (422 beyond); 0 = no limit but PIXPROXY_MAX_SRC_BYTES_CEILING. Default of the `max_src_file_size` option.'),
    maxSrcBytesCeiling: int(['PIXPROXY_MAX_SRC_BYTES_CEILING'], 64 * 1024 * 1024, { min: 0 })
      .describe('Hard ceiling on the decoded bytes read from any source (422 beyond), over IMGPROXY_MAX_SRC_FILE_SIZE (even 0) and `max_src_file_size`; 0 = none.'),
    maxSrcResolution: float(['IMGPROXY_MAX_SRC_RESOLUTION'], 50, { min: 0.01 })
      .describe('Largest source in megapixels, all frames counted (422 beyond). Default of `max_src_resolution`.'),
    maxAnimationFrames: int(['IMGPROXY_MAX_ANIMATION_FRAMES'], 1, { min: 1 })
      .describe('Frames of an animated source that are processed; 1 = the first frame only (still output).'),
    maxAnimationFrameResolution: float(['IMGPROXY_MAX_ANIMATION_FRAME_RESOLUTION'], 0, { min: 0 })
      .describe('When > 0, animated sources are limited per frame (megapixels) instead of by IMGPROXY_MAX_SRC_RESOLUTION.'),
    maxResultDimension: int(['IMGPROXY_MAX_RESULT_DIMENSION'], 0, { min: 0 })
      .describe('Longest side of a result in pixels; larger results are scaled down to fit. 0 = no limit.'),
    // pixproxy's own bounds, checked from the geometry before sharp allocates (docs/limits.md):
    // imgproxy has none, and a canvas of a few gigapixels takes the whole process down.
    maxResultResolution: float(['PIXPROXY_MAX_RESULT_RESOLUTION'], 50, { min: 0.01 })
      .describe('Largest result in megapixels, all frames counted; larger results are refused (422), not scaled.'),
    maxIntermediateResolution: float(['PIXPROXY_MAX_INTERMEDIATE_RESOLUTION'], 100, { min: 0.01 })
      .describe('Largest canvas in megapixels at any step (scaled, extended, padded, pixelate grid, watermark, decoded frames); larger is refused (422).'),
    allowSecurityOptions: bool(['IMGPROXY_ALLOW_SECURITY_OPTIONS'], false)
      .describe('Allows the `max_src_*`, `max_animation_*` and `max_result_dimension` URL options (refused with 403 otherwise).'),
    sanitizeSvg: bool(['IMGPROXY_SANITIZE_SVG'], true)
      .describe('Strips scripts, event handlers and external references from SVG sources before they are used.'),
    svgUnlimited: bool(['IMGPROXY_SVG_UNLIMITED'], false)
      .describe('Lifts the 10 MB size limit of the SVG sanitiser.'),
  },

  urls: {
    baseUrl: str(['IMGPROXY_BASE_URL'])
      .describe('Prefix added to imgproxy source URLs that do not already start with it.'),
    urlReplacements: str(['IMGPROXY_URL_REPLACEMENTS'])
      .describe('`pattern=replacement` rules separated by `;` rewriting the start of imgproxy source URLs (`*` matches anything but `/`).'),
    base64UrlIncludesFilename: bool(['IMGPROXY_BASE64_URL_INCLUDES_FILENAME'], false)
      .describe('The last segment of a base64 source is a filename for SEO, not part of the encoded URL.'),
    argumentsSeparator: custom(['IMGPROXY_ARGUMENTS_SEPARATOR'], ':', 'a single character other than /', (raw) =>
      raw.length === 1 && raw !== '/' ? raw : undefined,
    ).describe('Separator between an option\'s name and its arguments in imgproxy URLs and presets.'),
    presets: str(['IMGPROXY_PRESETS'])
      .describe('Named option sets, `name=options`; a preset named `default` applies to every imgproxy request.'),
    presetsPath: str(['IMGPROXY_PRESETS_PATH'])
      .describe('File read at startup with one preset a line (`#` comments), added to IMGPROXY_PRESETS.'),
    presetsSeparator: custom(['IMGPROXY_PRESETS_SEPARATOR'], ',', 'a non-empty separator', (raw) => (raw.length > 0 ? raw : undefined))
      .describe('Separator between the presets of IMGPROXY_PRESETS.'),
    maxChainedPipelines: int(['IMGPROXY_MAX_CHAINED_PIPELINES'], 0, { min: 0 })
      .describe('Most pipelines (option groups separated by `-`) an imgproxy URL may chain; presets are not counted (imgproxy Pro). 0 = no limit.'),
    onlyPresets: bool(['IMGPROXY_ONLY_PRESETS'], false)
      .describe('The options segment of imgproxy URLs holds only preset names.'),
    allowedProcessingOptions: list(['IMGPROXY_ALLOWED_PROCESSING_OPTIONS'])
      .describe('URL options allowed (names as written in the URL; presets are not restricted); empty = all.'),
    sourceUrlQuerySeparator: custom(['IMGPROXY_SOURCE_URL_QUERY_SEPARATOR'], '?', 'a separator string, or empty to disable', (raw) => raw, () => '')
      .describe('In s3://, gs://, abs:// and swift:// sources, what follows it is the object version; empty = all of it is the key.'),
  },

  download: {
    downloadTimeout: int(['IMGPROXY_DOWNLOAD_TIMEOUT', 'PP_FETCH_TIMEOUT_SECS'], 5, { min: 1 })
      .describe('Seconds a source download may take, redirects included (http and storage sources).'),
    maxRedirects: int(['IMGPROXY_MAX_REDIRECTS'], 10, { min: 0 })
      .describe('Redirects followed when fetching an http(s) source.'),
    userAgent: str(['IMGPROXY_USER_AGENT'], 'pixproxy/%current_version')
      .describe('`User-Agent` sent to http(s) origins; `%current_version` is replaced with pixproxy\'s version.'),
    localFilesystemRoot: str(['IMGPROXY_LOCAL_FILESYSTEM_ROOT', 'PP_LOCAL_BASE_DIR'])
      .describe('Directory `local://` sources are read from (never outside it); empty = `local://` off.'),
    clientKeepAliveTimeout: int(['IMGPROXY_CLIENT_KEEP_ALIVE_TIMEOUT'], 90, { min: 0 })
      .describe('Seconds an idle connection to an origin is kept for reuse; 0 = no keep-alive.'),
    ignoreSslVerification: bool(['IMGPROXY_IGNORE_SSL_VERIFICATION'], false)
      .describe('Accepts any TLS certificate from https origins.'),
    useEtag: bool(['IMGPROXY_USE_ETAG'], true)
      .describe('Processed results carry the source\'s ETag (or, when it sends none, one of the result bytes); a client\'s If-None-Match goes to the origin and its 304 is answered 304. false sends none and forwards none.'),
    useLastModified: bool(['IMGPROXY_USE_LAST_MODIFIED'], true)
      .describe('Processed results carry the source\'s Last-Modified (dropped when it is no HTTP date); a client\'s If-Modified-Since goes to the origin, and a cached result answers it with 304.'),
    etagBuster: str(['IMGPROXY_ETAG_BUSTER'])
      .describe('ETags become `"<buster>/<base64url(ETag)>"`; an If-None-Match without the current buster is not forwarded, so changing it makes every client download again.'),
    lastModifiedBuster: custom(['IMGPROXY_LAST_MODIFIED_BUSTER'], null as number | null, 'an RFC 3339 date-time, e.g. 2024-05-01T00:00:00Z', parseRfc3339)
      .describe('An older Last-Modified is answered as this time, and an If-Modified-Since not after it is not forwarded, so raising it makes every client download again.'),
    cacheControlPassthrough: bool(['IMGPROXY_CACHE_CONTROL_PASSTHROUGH'], false)
      .describe('Use the source\'s Cache-Control (or its Expires as a max-age) instead of IMGPROXY_TTL; `expires` still caps it.'),
    setCanonicalHeader: bool(['IMGPROXY_SET_CANONICAL_HEADER'], false)
      .describe('Send `Link: <source>; rel="canonical"` for http(s) sources (processed and `raw`; not for `/enc/` sources, whose URL is secret).'),
    cookiePassthrough: bool(['IMGPROXY_COOKIE_PASSTHROUGH'], false)
      .describe('Forwards the client\'s cookies to http(s) sources on the request\'s own host (X-Forwarded-Proto/-Host/-Port or Host, or IMGPROXY_COOKIE_BASE_URL). Results fetched with cookies are cached per cookie set only.'),
    cookiePassthroughAll: bool(['IMGPROXY_COOKIE_PASSTHROUGH_ALL'], false)
      .describe('With IMGPROXY_COOKIE_PASSTHROUGH, forwards the cookies to every http(s) source, whatever its host.'),
    cookieBaseUrl: custom(['IMGPROXY_COOKIE_BASE_URL'], '', 'an absolute http(s) URL, e.g. https://example.com/images/', (raw) => {
      const v = raw.trim();
      return /^https?:\/\/[^/?#]+/i.test(v) && URL.canParse(v) ? v : undefined;
    }).describe('The URL the client\'s cookies are taken to belong to (instead of the request\'s host): they go to sources on its host and path.'),
  },

  processing: {
    ttl: int(['IMGPROXY_TTL'], 31_536_000, { min: 0 })
      .describe('Seconds in `Cache-Control: max-age` of results (capped by `expires`); 0 = `no-cache`.'),
    quality: int(['IMGPROXY_QUALITY'], 80, { min: 1, max: 100 })
      .describe('Encoding quality when neither the URL nor IMGPROXY_FORMAT_QUALITY sets one.'),
    formatQuality: map<number>(['IMGPROXY_FORMAT_QUALITY'], { webp: 79, avif: 63, jxl: 77 }, 'format=quality pairs, e.g. jpeg=80,avif=60', parseQuality)
      .describe('Default quality per output format, before IMGPROXY_QUALITY.'),
    preferredFormats: custom(['IMGPROXY_PREFERRED_FORMATS'], ['jpeg', 'png', 'gif'] as readonly string[], `a comma-separated list of ${OUTPUT_FORMATS.join(', ')}`, parseFormatList)
      .describe('Output formats used when none is asked: the source\'s if listed, else the first that fits (alpha, animation); unencodable ones are dropped.'),
    skipProcessingFormats: custom(['IMGPROXY_SKIP_PROCESSING_FORMATS'], [] as readonly string[], 'a comma-separated list of formats', parseFormatList)
      .describe('Source formats served unprocessed when the output format is theirs or automatic. Default of `skip_processing`.'),
    autoRotate: bool(['IMGPROXY_AUTO_ROTATE'], true)
      .describe('Rotates by the EXIF orientation. Default of `auto_rotate`.'),
    stripMetadata: bool(['IMGPROXY_STRIP_METADATA'], true)
      .describe('Results carry no EXIF or XMP (but see IMGPROXY_KEEP_COPYRIGHT). Default of `strip_metadata`.'),
    keepCopyright: bool(['IMGPROXY_KEEP_COPYRIGHT'], true)
      .describe('Keeps the EXIF Artist and Copyright tags when metadata is stripped. Default of `keep_copyright`.'),
    stripColorProfile: bool(['IMGPROXY_STRIP_COLOR_PROFILE'], true)
      .describe('Results carry no ICC profile (pixels are sRGB either way; off = tagged sRGB). Default of `strip_color_profile`.'),
    preserveHdr: bool(['IMGPROXY_PRESERVE_HDR'], false)
      .describe('Keeps 16-bit sources at 16 bits where the output format can hold it. Default of `preserve_hdr`.'),
    useLinearColorspace: bool(['IMGPROXY_USE_LINEAR_COLORSPACE'], false)
      .describe('Resizes in linear light (libvips scRGB), then back to sRGB: truer averages of bright and dark pixels, slower. Shrink-on-load still decodes in sRGB (IMGPROXY_DISABLE_SHRINK_ON_LOAD).'),
    unsharpMaskingMode: oneOf(['IMGPROXY_UNSHARP_MASKING_MODE'], UNSHARP_MASKING_MODES, 'none')
      .describe('imgproxy Pro\'s unsharp masking: `auto` sharpens downscaled results unless `sharpen` is set, `always` every result, `none` never. Default `none` keeps imgproxy\'s open-source pixels (Pro\'s default is `auto`). Default of `unsharp_masking`.'),
    unsharpMaskingWeight: custom(['IMGPROXY_UNSHARP_MASKING_WEIGHT'], 1, 'a number > 0', positive)
      .describe('How much neighbouring pixels weigh in unsharp masking; greater is sharper.'),
    unsharpMaskingDivider: custom(['IMGPROXY_UNSHARP_MASKING_DIVIDER'], 24, 'a number > 0', positive)
      .describe('Unsharp masking strength divider; smaller is sharper.'),
    stripMetadataDpi: custom(['IMGPROXY_STRIP_METADATA_DPI'], 72, 'a number > 0', positive)
      .describe('DPI written into results whose metadata is stripped, unless `dpi` sets one (imgproxy Pro).'),
    colorProfilesDir: str(['IMGPROXY_COLOR_PROFILES_DIR'], '/usr/share/color/icc')
      .describe('Directory of the ICC profiles `color_profile` may name (file name, `.icc`/`.icm` optional), besides the built-in `srgb`, `p3` and `cmyk`.'),
    disableShrinkOnLoad: bool(['IMGPROXY_DISABLE_SHRINK_ON_LOAD'], false)
      .describe('Turns off shrink-on-load (decoding JPEG/WebP at 1/2, 1/4 or 1/8 when only a resize follows): slower, slightly sharper.'),
    autoWebp: bool(['IMGPROXY_AUTO_WEBP', 'IMGPROXY_ENABLE_WEBP_DETECTION'], false)
      .describe('Prefers WebP when the client\'s Accept lists it and no format is asked; adds `Vary: Accept`.'),
    autoAvif: bool(['IMGPROXY_AUTO_AVIF', 'IMGPROXY_ENABLE_AVIF_DETECTION'], false)
      .describe('Prefers AVIF (over WebP) when Accept lists it and no format is asked; adds `Vary: Accept`.'),
    autoJxl: bool(['IMGPROXY_AUTO_JXL'], false)
      .describe('Prefers JPEG XL (over AVIF and WebP) when Accept lists it and no format is asked; adds `Vary: Accept`.'),
    enforceWebp: bool(['IMGPROXY_ENFORCE_WEBP'], false)
      .describe('Serves WebP to clients that accept it even when the URL asks for another format.'),
    enforceAvif: bool(['IMGPROXY_ENFORCE_AVIF'], false)
      .describe('Serves AVIF to clients that accept it even when the URL asks for another format.'),
    enforceJxl: bool(['IMGPROXY_ENFORCE_JXL'], false)
      .describe('Serves JPEG XL to clients that accept it even when the URL asks for another format.'),
    enableClientHints: bool(['IMGPROXY_ENABLE_CLIENT_HINTS'], false)
      .describe('Takes `dpr` and `width` defaults from the Sec-CH-DPR/DPR and Sec-CH-Width/Width headers; adds them to Vary.'),
    avifSpeed: int(['IMGPROXY_AVIF_SPEED'], 8, { min: 0, max: 9 })
      .describe('AVIF encoder speed, 0 (slow, small) to 9 (fast); sharp\'s effort is 9 − speed.'),
    avifSubsample: oneOf(['IMGPROXY_AVIF_SUBSAMPLE'], AVIF_SUBSAMPLES, 'auto')
      .describe('AVIF chroma subsampling: `auto` (4:2:0 below quality 90, as libvips), `on` (4:2:0) or `off` (4:4:4). Default of `avif_options`.'),
    jxlEffort: int(['IMGPROXY_JXL_EFFORT'], 4, { min: 1, max: 9 })
      .describe('JPEG XL encoder effort, 1 (fast) to 9 (slow, small).'),
    webpEffort: int(['IMGPROXY_WEBP_EFFORT'], 4, { min: 0, max: 6 })
      .describe('WebP encoder effort, 0 (fast) to 6 (slow, small).'),
    webpPreset: oneOf(['IMGPROXY_WEBP_PRESET'], WEBP_PRESETS, 'default')
      .describe('WebP encoder preset. Default of `webp_options`.'),
    webpCompression: oneOf(['IMGPROXY_WEBP_COMPRESSION'], WEBP_COMPRESSIONS, 'lossy')
      .describe('WebP compression: `lossy`, `near_lossless` (lossless on slightly altered pixels, at the quality) or `lossless`. Default of `webp_options`.'),
    webpSmartSubsample: bool(['IMGPROXY_WEBP_SMART_SUBSAMPLE'], false)
      .describe('Sharper RGB→YUV conversion for lossy WebP (slower, fewer colour fringes). Default of `webp_options`.'),
    jpegProgressive: bool(['IMGPROXY_JPEG_PROGRESSIVE'], false)
      .describe('Writes progressive JPEGs. Default of `jpeg_options`.'),
    jpegNoSubsample: bool(['IMGPROXY_JPEG_NO_SUBSAMPLE'], false)
      .describe('Writes JPEG without chroma subsampling (4:4:4): better colour edges, larger files. Default of `jpeg_options`.'),
    jpegTrellisQuant: bool(['IMGPROXY_JPEG_TRELLIS_QUANT'], false)
      .describe('mozjpeg trellis quantisation of each 8×8 block: smaller files, slower. Default of `jpeg_options`.'),
    jpegOvershootDeringing: bool(['IMGPROXY_JPEG_OVERSHOOT_DERINGING'], false)
      .describe('mozjpeg overshooting of extreme samples, against ringing around black text on white. Default of `jpeg_options`.'),
    jpegOptimizeScans: bool(['IMGPROXY_JPEG_OPTIMIZE_SCANS'], false)
      .describe('Splits the DCT spectrum into separate scans (smaller, slower); only with progressive JPEG. Default of `jpeg_options`.'),
    jpegQuantTable: int(['IMGPROXY_JPEG_QUANT_TABLE'], 0, { min: 0, max: 8 })
      .describe('mozjpeg quantisation table 0–8 (0: JPEG Annex K, 3: ImageMagick\'s, …). Default of `jpeg_options`.'),
    pngInterlaced: bool(['IMGPROXY_PNG_INTERLACED'], false)
      .describe('Writes interlaced (Adam7) PNGs. Default of `png_options`.'),
    pngQuantize: bool(['IMGPROXY_PNG_QUANTIZE'], false)
      .describe('Writes palette PNGs with at most IMGPROXY_PNG_QUANTIZATION_COLORS colours (libimagequant). Default of `png_options`.'),
    pngQuantizationColors: int(['IMGPROXY_PNG_QUANTIZATION_COLORS'], 256, { min: 2, max: 256 })
      .describe('Palette size when IMGPROXY_PNG_QUANTIZE is on. Default of `png_options`.'),
    autoqualityMethod: autoqualityMethod(['IMGPROXY_AUTOQUALITY_METHOD'])
      .describe('How quality is chosen per image: `none` (fixed), `size` (the highest quality within IMGPROXY_AUTOQUALITY_TARGET bytes) or `dssim` (the lowest quality whose DSSIM is within the target). Default of `autoquality`.'),
    autoqualityTarget: float(['IMGPROXY_AUTOQUALITY_TARGET'], 0.02, { min: 0 })
      .describe('The autoquality target: bytes for `size`, DSSIM for `dssim`.'),
    autoqualityMin: int(['IMGPROXY_AUTOQUALITY_MIN'], 70, { min: 1, max: 100 })
      .describe('The lowest quality autoquality may pick.'),
    autoqualityFormatMin: map<number>(['IMGPROXY_AUTOQUALITY_FORMAT_MIN'], { avif: 40 }, 'format=quality pairs, e.g. avif=40,webp=60', parseQuality)
      .describe('IMGPROXY_AUTOQUALITY_MIN per output format.'),
    autoqualityMax: int(['IMGPROXY_AUTOQUALITY_MAX'], 80, { min: 1, max: 100 })
      .describe('The highest quality autoquality may pick.'),
    autoqualityFormatMax: map<number>(['IMGPROXY_AUTOQUALITY_FORMAT_MAX'], { avif: 50 }, 'format=quality pairs, e.g. avif=50,webp=75', parseQuality)
      .describe('IMGPROXY_AUTOQUALITY_MAX per output format.'),
    autoqualityAllowedError: float(['IMGPROXY_AUTOQUALITY_ALLOWED_ERROR'], 0.001, { min: 0, max: 1 })
      .describe('How far from the DSSIM target a result may be (`dssim`).'),
    autoqualityMaxResolution: float(['IMGPROXY_AUTOQUALITY_MAX_RESOLUTION'], 0, { min: 0 })
      .describe('Megapixels above which autoquality is not used (each try is an encode); 0 = no limit.'),
    bestFormatComplexityThreshold: float(['IMGPROXY_BEST_FORMAT_COMPLEXITY_THRESHOLD'], 5.5, { min: 0, max: 100 })
      .describe('`format:best`: the edge density (% of edge pixels) from which an image counts as complex and lossless formats are not tried.'),
    bestFormatMaxResolution: float(['IMGPROXY_BEST_FORMAT_MAX_RESOLUTION'], 0, { min: 0 })
      .describe('`format:best`: megapixels above which no format is tried and the first fitting candidate is used; 0 = always try.'),
    bestFormatByDefault: bool(['IMGPROXY_BEST_FORMAT_BY_DEFAULT'], false)
      .describe('Uses `best` when a URL asks for no format (instead of the source\'s or a preferred format).'),
    bestFormatAllowSkips: bool(['IMGPROXY_BEST_FORMAT_ALLOW_SKIPS'], false)
      .describe('With `best`, SVG sources and IMGPROXY_SKIP_PROCESSING_FORMATS are served unprocessed, as for an automatic format.'),
    alwaysRasterizeSvg: bool(['IMGPROXY_ALWAYS_RASTERIZE_SVG'], false)
      .describe('Rasterises SVG sources even when no output format is asked (otherwise they are served as SVG).'),
    watermarkData: str(['IMGPROXY_WATERMARK_DATA'])
      .describe('Watermark image as base64; wins over IMGPROXY_WATERMARK_PATH and _URL. Read at startup.'),
    watermarkPath: str(['IMGPROXY_WATERMARK_PATH'])
      .describe('Watermark image file, read at startup; wins over IMGPROXY_WATERMARK_URL.'),
    watermarkUrl: str(['IMGPROXY_WATERMARK_URL'])
      .describe('Watermark image URL, fetched once at startup like a source.'),
    watermarkOpacity: float(['IMGPROXY_WATERMARK_OPACITY'], 1, { min: 0, max: 1 })
      .describe('Base opacity, multiplied by the `watermark` option\'s opacity.'),
    fallbackImageData: str(['IMGPROXY_FALLBACK_IMAGE_DATA', 'PP_FALLBACK_IMAGE_DATA'])
      .describe('Image (base64) answered instead of an error when the source cannot be fetched (which failures, per dialect: docs/previewproxy.md); wins over _PATH and _URL. Read at startup.'),
    fallbackImagePath: str(['IMGPROXY_FALLBACK_IMAGE_PATH', 'PP_FALLBACK_IMAGE_PATH'])
      .describe('Fallback image file, read once at startup; wins over _URL.'),
    fallbackImageUrl: str(['IMGPROXY_FALLBACK_IMAGE_URL', 'PP_FALLBACK_IMAGE_URL'])
      .describe('Fallback image URL, fetched once at startup like a source (a failure stops startup). A request\'s `fallback_image_url` option (imgproxy Pro) replaces it for that request.'),
    fallbackImagePreprocessUrl: bool(['IMGPROXY_FALLBACK_IMAGE_PREPROCESS_URL'], false)
      .describe('IMGPROXY_FALLBACK_IMAGE_URL and the `fallback_image_url` option go through IMGPROXY_URL_REPLACEMENTS and IMGPROXY_BASE_URL like source URLs (imgproxy Pro\'s variable).'),
    fallbackImageHttpCode: custom(['IMGPROXY_FALLBACK_IMAGE_HTTP_CODE', 'PP_FALLBACK_IMAGE_HTTP_CODE'], 200, '0 or an HTTP status from 100 to 599', parseHttpCode)
      .describe('Status of fallback answers; 0 = the status the error would have had (in the route\'s dialect).'),
    fallbackImageTtl: int(['IMGPROXY_FALLBACK_IMAGE_TTL', 'PP_FALLBACK_IMAGE_TTL'], 0, { min: 0 })
      .describe('Seconds in the `max-age` of fallback answers, and how long the cache keeps them; 0 = IMGPROXY_TTL on imgproxy routes, PP_TTL on PreviewProxy routes.'),
  },

  /** PDF pages, PSD composites and video frames (docs/formats.md). */
  previews: {
    enableVideoThumbnails: bool(['IMGPROXY_ENABLE_VIDEO_THUMBNAILS'], false)
      .describe('imgproxy routes take a frame of video sources (mp4, mov, webm, mkv, avi) with ffmpeg; off, a video is an unsupported source (422), as in imgproxy Pro. PreviewProxy routes always do, as PreviewProxy does.'),
    videoThumbnailSecond: float(['IMGPROXY_VIDEO_THUMBNAIL_SECOND'], 1, { min: 0 })
      .describe('Second of the frame taken from a video on imgproxy routes (default of `video_thumbnail_second`); past the end, the last frame. PreviewProxy routes take the first frame unless `seek` says otherwise.'),
    videoThumbnailKeyframes: bool(['IMGPROXY_VIDEO_THUMBNAIL_KEYFRAMES'], false)
      .describe('Takes the keyframe at or before the second instead of decoding up to the exact frame: faster, less exact. Default of `video_thumbnail_keyframes`.'),
    videoThumbnailProbeSize: int(['IMGPROXY_VIDEO_THUMBNAIL_PROBE_SIZE'], 5_000_000, { min: 32 })
      .describe('Bytes ffmpeg and ffprobe read to find the streams of a video (their `-probesize`).'),
    videoThumbnailMaxAnalyzeDuration: int(['IMGPROXY_VIDEO_THUMBNAIL_MAX_ANALYZE_DURATION'], 0, { min: 0 })
      .describe('Milliseconds of a video ffmpeg and ffprobe analyse to find its streams (their `-analyzeduration`); 0 = their own heuristic.'),
    ffmpegPath: str(['PP_FFMPEG_PATH'], 'ffmpeg')
      .describe('The ffmpeg binary (a name looked up in PATH, or a path); checked at startup, one warning line when it is missing, then videos answer 422.'),
    ffprobePath: str(['PP_FFPROBE_PATH'])
      .describe('The ffprobe binary; empty = `ffprobe` next to PP_FFMPEG_PATH when that is a path, else looked up in PATH. Without it a video has no known duration: `seek` ratios and `auto` take the first frame, as in PreviewProxy.'),
    maxVideoSrcFileSize: int(['PIXPROXY_MAX_VIDEO_SRC_FILE_SIZE'], 0, { min: 0 })
      .describe('Largest video source in bytes (422 beyond), in place of IMGPROXY_MAX_SRC_FILE_SIZE for videos; 0 = the same limit as images. Never over PIXPROXY_MAX_SRC_BYTES_CEILING.'),
    maxVideoDuration: float(['PIXPROXY_MAX_VIDEO_DURATION'], 14_400, { min: 0 })
      .describe('Longest video in seconds (422 beyond, from ffprobe, before any frame is decoded); 0 = no limit.'),
    maxSrcPages: int(['PIXPROXY_MAX_SRC_PAGES'], 10_000, { min: 1 })
      .describe('Most pages a PDF source may have (422 beyond, before any page is rendered).'),
  },

  /** Logs, metrics, traces and health checks (see docs/observability.md). */
  observability: {
    logFormat: custom(['IMGPROXY_LOG_FORMAT'], 'auto' as LogFormatSetting, 'one of pretty, structured, json, gcp', (raw) => {
      const v = raw.trim().toLowerCase();
      return (LOG_FORMATS as readonly string[]).includes(v) ? (v as LogFormatSetting) : undefined;
    }).describe('Log line format, imgproxy\'s four: `json`, `gcp` (JSON with `severity` and `message`), `structured` (key="value"), `pretty` (coloured). Unset = `pretty` on a terminal, else `json` (imgproxy: `structured`).'),
    syslogEnable: bool(['IMGPROXY_SYSLOG_ENABLE'], false)
      .describe('Also sends every log line to a syslog daemon (IMGPROXY_SYSLOG_NETWORK and _ADDRESS; unset = the local daemon\'s stream socket, /dev/log).'),
    syslogLevel: custom(['IMGPROXY_SYSLOG_LEVEL'], '' as '' | SyslogLevel, 'one of debug, info, warn, error, crit', (raw) => {
      const v = raw.trim().toLowerCase();
      return (SYSLOG_LEVELS as readonly string[]).includes(v) ? (v as SyslogLevel) : undefined;
    }).describe('Lowest level sent to syslog; unset = IMGPROXY_LOG_LEVEL.'),
    syslogNetwork: str(['IMGPROXY_SYSLOG_NETWORK'])
      .describe('Network of the syslog daemon: `udp`, `udp4`, `udp6`, `tcp`, `tcp4`, `tcp6` or `unix` (a stream socket); unset = the local daemon. `unixgram` is refused: Node.js has no Unix datagram sockets.'),
    syslogAddress: str(['IMGPROXY_SYSLOG_ADDRESS'])
      .describe('`host:port` (udp, tcp) or socket path (unix) of the syslog daemon; required with IMGPROXY_SYSLOG_NETWORK.'),
    syslogTag: str(['IMGPROXY_SYSLOG_TAG'], 'imgproxy')
      .describe('Tag of the syslog messages (imgproxy\'s default, so existing filters match).'),
    serverName: str(['IMGPROXY_SERVER_NAME'], 'imgproxy')
      .describe('The `Server` header of every response (imgproxy Pro\'s variable; imgproxy sends `imgproxy`).'),
    healthCheckMessage: str(['IMGPROXY_HEALTH_CHECK_MESSAGE'], 'imgproxy is running')
      .describe('Body of the imgproxy health check answer (imgproxy Pro\'s variable).'),
    metricsOnMainPort: bool(['PIXPROXY_METRICS_ON_MAIN_PORT'], false)
      .describe('Also serves `/metrics` on the main server (imgproxy serves them only on IMGPROXY_PROMETHEUS_BIND; metrics may reveal traffic, keep them off public ports).'),
    ppPrometheusNamespace: str(['PP_PROMETHEUS_NAMESPACE'])
      .describe('Prefix of PreviewProxy\'s own series (`<namespace>_`); when it differs from IMGPROXY_PROMETHEUS_NAMESPACE, the series both share are served under it too, with PreviewProxy\'s label values.'),
    otelEnable: bool(['IMGPROXY_OPEN_TELEMETRY_ENABLE'], false)
      .describe('Sends a trace per image request (spans queue, downloading_source_image, processing_image) over OTLP; needs the optional @opentelemetry packages.'),
    otelEnableMetrics: bool(['IMGPROXY_OPEN_TELEMETRY_ENABLE_METRICS'], false)
      .describe('With IMGPROXY_OPEN_TELEMETRY_ENABLE, also sends imgproxy\'s metrics over OTLP every OTEL_METRIC_EXPORT_INTERVAL.'),
    otelServerCert: str(['IMGPROXY_OPEN_TELEMETRY_SERVER_CERT'])
      .describe('PEM certificate (`\\n` for line breaks) the OTLP collector\'s TLS certificate is checked against (http/protobuf only).'),
    otelClientCert: str(['IMGPROXY_OPEN_TELEMETRY_CLIENT_CERT'])
      .describe('PEM client certificate for mTLS to the collector, with IMGPROXY_OPEN_TELEMETRY_CLIENT_KEY (http/protobuf only).'),
    otelClientKey: str(['IMGPROXY_OPEN_TELEMETRY_CLIENT_KEY'])
      .describe('PEM key of IMGPROXY_OPEN_TELEMETRY_CLIENT_CERT.'),
    otelTraceIdGenerator: oneOf(['IMGPROXY_OPEN_TELEMETRY_TRACE_ID_GENERATOR'], ['xray', 'random'], 'xray')
      .describe('Trace ids: `xray` (AWS X-Ray compatible: the first 4 bytes are the start time) or `random`.'),
    otelEndpoint: str(['OTEL_EXPORTER_OTLP_ENDPOINT'])
      .describe('OTLP collector URL (`http://` or `https://`); unset = `http://localhost:4317` for grpc, `http://localhost:4318` for http/protobuf.'),
    otelTracesEndpoint: str(['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'])
      .describe('Collector URL for traces only (for http/protobuf, the full URL with its path); unset = from OTEL_EXPORTER_OTLP_ENDPOINT.'),
    otelMetricsEndpoint: str(['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'])
      .describe('Collector URL for metrics only (for http/protobuf, the full URL with its path); unset = from OTEL_EXPORTER_OTLP_ENDPOINT.'),
    otelProtocol: custom(['OTEL_EXPORTER_OTLP_PROTOCOL'], 'grpc' as OtlpProtocol, 'one of grpc, http/protobuf, http, https', parseOtlpProtocol)
      .describe('OTLP transport: `grpc` or `http/protobuf` (`http` and `https` mean http/protobuf, as in imgproxy).'),
    otelTracesProtocol: custom(['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'], '' as OtlpProtocol | '', 'one of grpc, http/protobuf, http, https', parseOtlpProtocol)
      .describe('OTLP transport of traces; unset = OTEL_EXPORTER_OTLP_PROTOCOL.'),
    otelMetricsProtocol: custom(['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL'], '' as OtlpProtocol | '', 'one of grpc, http/protobuf, http, https', parseOtlpProtocol)
      .describe('OTLP transport of metrics; unset = OTEL_EXPORTER_OTLP_PROTOCOL.'),
    otelHeaders: map(['OTEL_EXPORTER_OTLP_HEADERS'], {}, 'key=value pairs separated by commas', (v) => v)
      .describe('Headers sent with every OTLP export (`api-key=secret,x-tenant=a`).'),
    otelTimeout: int(['OTEL_EXPORTER_OTLP_TIMEOUT'], 10_000, { min: 1 })
      .describe('Milliseconds one OTLP export may take.'),
    otelServiceName: str(['OTEL_SERVICE_NAME'], 'imgproxy')
      .describe('`service.name` of the traces and metrics (imgproxy\'s default, so existing queries match).'),
    otelPropagators: custom(['OTEL_PROPAGATORS'], ['tracecontext', 'baggage'] as readonly Propagator[], 'a comma-separated list of tracecontext, baggage, b3, b3multi, jaeger, xray, ottrace, none', (raw) => {
      const items = raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
      return items.every((i) => (PROPAGATORS as readonly string[]).includes(i)) ? (items.filter((i) => i !== 'none') as Propagator[]) : undefined;
    }).describe('How the incoming trace context is read (W3C `traceparent` by default); b3/b3multi, jaeger, xray and ottrace need their @opentelemetry/propagator-* package.'),
    otelMetricsInterval: int(['OTEL_METRIC_EXPORT_INTERVAL'], 10_000, { min: 100 })
      .describe('Milliseconds between two OTLP metric exports (imgproxy: 10 s).'),
  },

  /** The PreviewProxy URL dialect (https://github.com/ViGrise/previewproxy#readme, its variables:
   * https://platform.vigrise.com/docs/open-source-software/previewproxy/configuration/environment-variables). */
  previewproxy: {
    hmacKey: str(['PP_HMAC_KEY'])
      .describe('HMAC-SHA256 key (raw UTF-8) of PreviewProxy URL signatures; empty = signatures not required.'),
    allowedHosts: custom(['PP_ALLOWED_HOSTS'], [] as readonly string[], 'a comma-separated list of hosts or *.domain wildcards', (raw) =>
      raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''),
    ).describe('Hosts PreviewProxy http(s) sources may name (`*.x.com` matches exactly one more label); empty = all.'),
    sourceUrlEncryptionKey: custom(['PP_SOURCE_URL_ENCRYPTION_KEY'], null as Buffer | null, AES_KEY, parseAesKey).describe('AES-128/192/256-CBC key of encrypted (`enc`) PreviewProxy sources; unset = encrypted sources refused.'),
    appEnv: oneOf(['PP_APP_ENV'], ['development', 'production'], 'development')
      .describe('`production` logs an error at startup when PP_HMAC_KEY or PP_ALLOWED_HOSTS is unset, as PreviewProxy does. Unlike PreviewProxy, private source addresses are refused in both modes (IMGPROXY_ALLOW_*_SOURCE_ADDRESSES open them).'),
    s3Enabled: ppBool(['PP_S3_ENABLED'])
      .describe('Turns PreviewProxy `s3:/key` sources on or off; unset = on exactly when PP_S3_BUCKET is set.'),
    s3Bucket: str(['PP_S3_BUCKET'])
      .describe('The one bucket PreviewProxy `s3:/key` sources (and `s3:/` alias bases) read from, with the PP_S3_* client settings below (not IMGPROXY_S3_*).'),
    s3Region: str(['PP_S3_REGION'], 'us-east-1')
      .describe('Region of the PP_S3_BUCKET client.'),
    s3Endpoint: str(['PP_S3_ENDPOINT'])
      .describe('Custom S3 endpoint (R2, MinIO, Swift s3api…) of the PP_S3_BUCKET client; set = path-style addressing, as PreviewProxy does.'),
    s3AccessKeyId: str(['PP_S3_ACCESS_KEY_ID'])
      .describe('Access key of the PP_S3_BUCKET client, with PP_S3_SECRET_ACCESS_KEY; both unset = the AWS SDK\'s default credential chain.'),
    s3SecretAccessKey: str(['PP_S3_SECRET_ACCESS_KEY'])
      .describe('Secret key paired with PP_S3_ACCESS_KEY_ID.'),
    localEnabled: ppBool(['PP_LOCAL_ENABLED'])
      .describe('Turns PreviewProxy `local:/path` sources on or off; unset = on exactly when PP_LOCAL_BASE_DIR (IMGPROXY_LOCAL_FILESYSTEM_ROOT) is set.'),
    defaultSourceUrl: custom(['PP_DEFAULT_SOURCE_URL'], '', 'a base starting with http://, https://, s3:/ or local:/', (raw) => {
      const v = raw.trim();
      return PP_BASE_RE.test(v) ? v : undefined;
    }).describe('Base that relative PreviewProxy sources (`/photos/a.jpg`) are joined to; empty = relative sources refused.'),
    corsAllowOrigin: custom(['PP_CORS_ALLOW_ORIGIN'], ['*'] as readonly string[], 'a comma-separated list of origins (`https://app.example.com`), `*.domain` wildcards, or `*`', (raw) =>
      raw.split(',').map((s) => s.trim()).filter((s) => s !== ''),
    // Set but empty: PreviewProxy builds an empty origin list, so no origin is allowed.
    () => []).describe('Origins allowed by CORS on PreviewProxy routes (`/proxy`, and every path with PIXPROXY_PATH_DIALECT=previewproxy): `*` (any), exact origins, or `*.domain` (exactly one more label); set but empty = none. imgproxy routes use IMGPROXY_ALLOW_ORIGIN.'),
    corsMaxAgeSecs: int(['PP_CORS_MAX_AGE_SECS'], 600, { min: 0 })
      .describe('`Access-Control-Max-Age` of preflight (OPTIONS) answers on PreviewProxy routes, in seconds.'),
    fetchRetryCount: int(['PP_FETCH_RETRY_COUNT'], 3, { min: 0, max: 100 })
      .describe('Retries of a PreviewProxy source fetch that failed to connect or broke off mid-body (never after a timeout, an HTTP status or a size limit); imgproxy routes never retry, as imgproxy does not.'),
    fetchRetryDelayMs: int(['PP_FETCH_RETRY_DELAY_MS'], 0, { min: 0, max: 60_000 })
      .describe('Milliseconds between those retries (a fixed delay, as in PreviewProxy).'),
    inputDisallow: tokenList('PP_INPUT_DISALLOW_LIST', INPUT_TOKENS)
      .describe(`Source formats PreviewProxy requests refuse with 400 \`transform_disabled\` (${INPUT_TOKENS.join(', ')}), detected from the bytes; unknown tokens are ignored with a warning.`),
    outputDisallow: tokenList('PP_OUTPUT_DISALLOW_LIST', OUTPUT_TOKENS)
      .describe(`Output formats PreviewProxy requests refuse with 400 \`transform_disabled\` (${OUTPUT_TOKENS.join(', ')}); unknown tokens are ignored with a warning.`),
    transformDisallow: tokenList('PP_TRANSFORM_DISALLOW_LIST', TRANSFORM_TOKENS)
      .describe(`PreviewProxy parameters refused with 400 \`transform_disabled\` (${TRANSFORM_TOKENS.join(', ')}; \`watermark\` covers \`wm\` and \`wmt\`); unknown tokens are ignored with a warning.`),
    ttl: int(['PP_TTL'], 86_400, { min: 0 })
      .describe('`max-age` of fallback answers on PreviewProxy routes when PP_FALLBACK_IMAGE_TTL is 0 (PreviewProxy uses it for nothing else).'),
    maxConcurrentRequests: int(['PP_MAX_CONCURRENT_REQUESTS'], 256, { min: 1 })
      .describe('PreviewProxy requests in progress at once (cache hits included); one more is answered 503 with `Retry-After: 1` at once. imgproxy routes are bounded by IMGPROXY_REQUESTS_QUEUE_SIZE instead.'),
    bestFormatComplexityThreshold: float(['PP_BEST_FORMAT_COMPLEXITY_THRESHOLD'], 5.5, { min: 0, max: 100 })
      .describe('PreviewProxy `format=best`: the edge density (% of edge pixels) from which png, bmp and tiff are not tried.'),
    bestFormatMaxResolution: custom<number | null>(['PP_BEST_FORMAT_MAX_RESOLUTION'], null, 'megapixels, a number ≥ 0', (raw) => {
      const n = Number(raw.trim());
      return Number.isFinite(n) && n >= 0 ? n : undefined;
    })
      .describe('PreviewProxy `format=best`: megapixels above which no format is tried and the first candidate left is used; unset = always try.'),
    bestFormatByDefault: ppBool(['PP_BEST_FORMAT_BY_DEFAULT'], false)
      .describe('PreviewProxy requests without `format` use `best` (and are re-encoded even without other parameters).'),
    bestFormatAllowSkips: ppBool(['PP_BEST_FORMAT_ALLOW_SKIPS'], false)
      .describe('PreviewProxy requests whose result would be in the source\'s format and that ask nothing but `format`/`q` get the source bytes.'),
    bestFormatPreferredFormats: ppBestFormats('PP_BEST_FORMAT_PREFERRED_FORMATS')
      .describe('PreviewProxy `format=best`: the formats tried, in order; unknown names are ignored with a warning.'),
    urlAliases: custom(['PP_URL_ALIASES'], {} as Readonly<Record<string, string>>, 'name=base pairs separated by commas', (raw) => parseAliasList(raw).aliases)
      .describe('`name=base` pairs: a PreviewProxy source `name:/path` means `base/path` (PP_ALLOWED_HOSTS does not apply). Bases start with http://, https://, s3:/ or local:/; a bad entry is skipped with a warning, as PreviewProxy does.'),
  },

  cache: {
    use: custom<CacheUse>(['IMGPROXY_CACHE_USE'], 'fs', 'one of fs, s3, gcs, abs, swift, none (or empty to disable)', (raw) => {
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
    // Unset → unbounded, with a startup warning: "PP_CACHE_DISK_MAX_MB is not set by default, meaning
    // disk usage is unbounded. In production it is strongly recommended to set this" (https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview).
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
  },

  /** The admin API (docs/admin.md). */
  admin: {
    bind: str(['PIXPROXY_ADMIN_BIND'])
      .describe('`host:port` of a separate listener for the admin API (purge, stats); empty = none. Keep it off public networks.'),
    pathPrefix: custom(['PIXPROXY_ADMIN_PATH_PREFIX'], '', 'a path starting with / (e.g. /_admin)', (raw) => {
      const p = raw.trim().replace(/\/+$/, '');
      return p.startsWith('/') && p.length > 1 ? p : undefined;
    }).describe('Also serves the admin API on the main port under this path (matched before IMGPROXY_PATH_PREFIX and every image route); empty = not on the main port.'),
    secret: str(['PIXPROXY_ADMIN_SECRET'])
      .describe('Bearer secret every admin call must send (`Authorization: Bearer <secret>`), compared in constant time; required, at least 32 characters, when the admin API is on.'),
  },

  storage: {
    // Sources (the per-store settings are generated from ./backend-fields.ts)
    useS3: bool(['IMGPROXY_USE_S3'], false)
      .describe('Enables `s3://bucket/key` sources.'),
    useGcs: bool(['IMGPROXY_USE_GCS'], false)
      .describe('Enables `gs://bucket/key` sources.'),
    useAbs: bool(['IMGPROXY_USE_ABS'], false)
      .describe('Enables `abs://container/blob` sources (Azure Blob Storage).'),
    useSwift: bool(['IMGPROXY_USE_SWIFT'], false)
      .describe('Enables `swift://container/object` sources (OpenStack Swift).'),
    ...sourceStoreFields(),
    ...bucketListFields(),
    awsAccessKeyId: str(['AWS_ACCESS_KEY_ID'])
      .describe('S3 access key (s3:// source and S3 cache), used with AWS_SECRET_ACCESS_KEY; unset = the SDK\'s default credential chain.'),
    awsSecretAccessKey: str(['AWS_SECRET_ACCESS_KEY'])
      .describe('S3 secret key paired with AWS_ACCESS_KEY_ID.'),
    awsSessionToken: str(['AWS_SESSION_TOKEN'])
      .describe('Session token for temporary S3 keys.'),
    // Cache adapters (IMGPROXY_CACHE_*), generated from the same descriptor
    ...cacheStoreFields(),
  },
} as const satisfies Readonly<Record<string, Readonly<Record<string, DescribedField<unknown>>>>>;

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

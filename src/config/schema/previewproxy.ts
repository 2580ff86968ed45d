/**
 * The schema's `previewproxy` section: PreviewProxy's own variables (PP_*) for its URL
 * dialect (https://github.com/ViGrise/previewproxy/blob/main/src/common/config/loader.rs):
 * signing, allowed hosts, encryption, its S3 and local sources, CORS, fetch retries, the
 * disallow lists, `format=best` and URL aliases.
 */
import { ppBestFormats } from '../encoder-fields.js';
import { aesKey, custom, float, int, oneOf, str, type SchemaSection } from '../fields.js';
import { INPUT_TOKENS, OUTPUT_TOKENS, parseAliasList, PP_BASE_RE, ppBool, tokenList, TRANSFORM_TOKENS } from '../previewproxy-fields.js';

export const previewproxy = {
  hmacKey: str(['PP_HMAC_KEY'])
    .describe('HMAC-SHA256 key (raw UTF-8) of PreviewProxy URL signatures; empty = signatures not required.'),
  allowedHosts: custom(['PP_ALLOWED_HOSTS'], [] as readonly string[], 'a comma-separated list of hosts or *.domain wildcards', (raw) =>
    raw.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== ''),
  ).describe('Hosts PreviewProxy http(s) sources may name (`*.x.com` matches exactly one more label); empty = all.'),
  sourceUrlEncryptionKey: aesKey(['PP_SOURCE_URL_ENCRYPTION_KEY']).describe('AES-128/192/256-CBC key of encrypted (`enc`) PreviewProxy sources; unset = encrypted sources refused.'),
  appEnv: oneOf(['PP_APP_ENV'], ['development', 'production'], 'development')
    .describe('`production` logs an error at startup when PP_HMAC_KEY or PP_ALLOWED_HOSTS is unset, as PreviewProxy does. Unlike PreviewProxy, private source addresses are refused in both modes (IMGPROXY_ALLOW_*_SOURCE_ADDRESSES open them).'),
  s3Enabled: ppBool(['PP_S3_ENABLED'], false)
    .describe('Turns PreviewProxy `s3:/key` sources on (PP_S3_BUCKET must be set then); off by default, as in PreviewProxy.'),
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
  localEnabled: ppBool(['PP_LOCAL_ENABLED'], false)
    .describe('Turns PreviewProxy `local:/path` sources on (PP_LOCAL_BASE_DIR or IMGPROXY_LOCAL_FILESYSTEM_ROOT must be set then); off by default, as in PreviewProxy. imgproxy `local://` sources need only IMGPROXY_LOCAL_FILESYSTEM_ROOT.'),
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
  maxSourceBytes: int(['PP_MAX_SOURCE_BYTES'], 20 * 1024 * 1024, { min: 0 })
    .describe('Largest source of a PreviewProxy request in bytes (413 `source_too_large` beyond); 0 = no limit but PIXPROXY_MAX_SRC_BYTES_CEILING. imgproxy requests use IMGPROXY_MAX_SRC_FILE_SIZE.'),
  fetchTimeout: int(['PP_FETCH_TIMEOUT_SECS'], 10, { min: 1 })
    .describe('Seconds a source download of a PreviewProxy request may take, redirects included (its own bucket, PP_S3_*, too); imgproxy requests use IMGPROXY_DOWNLOAD_TIMEOUT.'),
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
} as const satisfies SchemaSection;

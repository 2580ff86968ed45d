/**
 * The schema's `urls` section: how imgproxy source URLs are rewritten (base URL,
 * replacements), the option grammar's separators, presets, and which options a URL may use.
 */
import { bool, custom, int, list, str, type SchemaSection } from '../fields.js';

export const urls = {
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
} as const satisfies SchemaSection;

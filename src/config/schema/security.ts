/**
 * The schema's `security` section: URL signatures and source URL encryption, which sources
 * may be fetched (prefixes, address classes), and the size bounds of sources, results and
 * every canvas in between (docs/limits.md).
 */
import { aesKey, bool, float, hexList, int, list, type SchemaSection } from '../fields.js';

export const security = {
  keys: hexList(['IMGPROXY_KEY'])
    .describe('HMAC keys of imgproxy URL signatures, tried in order with the salt at the same position; empty = signatures not checked.'),
  salts: hexList(['IMGPROXY_SALT'])
    .describe('Salts paired with IMGPROXY_KEY (as many as keys).'),
  signatureSize: int(['IMGPROXY_SIGNATURE_SIZE'], 32, { min: 1, max: 32 })
    .describe('Bytes of the HMAC-SHA256 kept in a signature.'),
  // https://docs.imgproxy.net/usage/encrypting_source_url (imgproxy Pro)
  sourceUrlEncryptionKey: aesKey(['IMGPROXY_SOURCE_URL_ENCRYPTION_KEY'])
    .describe('AES-CBC key (AES-128/192/256) of imgproxy Pro\'s encrypted `/enc/` source URLs, for images and `/info`; also used by `pixproxy encrypt-url`. Unset = `/enc/` sources answer 404. Sign such URLs too.'),
  trustedSignatures: list(['IMGPROXY_TRUSTED_SIGNATURES'])
    .describe('Signatures accepted as they are, without checking the HMAC.'),
  allowedSources: list(['IMGPROXY_ALLOWED_SOURCES'])
    .describe('Source URL prefixes allowed (`*` matches anything but `/`), checked on every redirect too; empty = every source.'),
  allowLoopbackSourceAddresses: bool(['IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES'], false)
    .describe('Lets http(s) sources connect to loopback addresses (checked at connect time).'),
  allowLinkLocalSourceAddresses: bool(['IMGPROXY_ALLOW_LINK_LOCAL_SOURCE_ADDRESSES'], false)
    .describe('Lets http(s) sources connect to link-local addresses (cloud metadata endpoints live there).'),
  // imgproxy allows private ranges by default (IMGPROXY_ALLOW_PRIVATE_SOURCE_ADDRESSES in
  // https://github.com/imgproxy/imgproxy/blob/master/fetcher/transport/generichttp/config.go);
  // a proxy in front of a private network should not reach into it unless told to.
  allowPrivateSourceAddresses: bool(['IMGPROXY_ALLOW_PRIVATE_SOURCE_ADDRESSES'], false)
    .describe('Lets http(s) sources connect to private-network addresses (blocked by default, unlike imgproxy).'),
  maxSrcFileSize: int(['IMGPROXY_MAX_SRC_FILE_SIZE'], 0, { min: 0 })
    .describe('Largest source of an imgproxy request in bytes, decoded (422 beyond); 0 = no limit but PIXPROXY_MAX_SRC_BYTES_CEILING. Default of the `max_src_file_size` option. PreviewProxy requests use PP_MAX_SOURCE_BYTES.'),
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
} as const satisfies SchemaSection;

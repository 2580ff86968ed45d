/**
 * `pixproxy encrypt-url <url>`: the encrypted form of a source URL. PreviewProxy's (the server
 * decrypts it: `/enc/<blob>` paths, `/proxy?url=<blob>&enc`), keyed with
 * PP_SOURCE_URL_ENCRYPTION_KEY, and imgproxy Pro's `/enc/<blob>` (keyed with
 * IMGPROXY_SOURCE_URL_ENCRYPTION_KEY; the server does not decrypt it yet). As PreviewProxy's
 * own `encrypt-url`, the blob goes to stdout and a ready-to-use path segment to stderr.
 */
import type { Config } from '../config/index.js';
import { schema } from '../config/index.js';
import { encryptSourceUrl as encryptImgproxy } from '../dialects/imgproxy/encryption.js';
import { encryptSourceUrl as encryptPreviewProxy } from '../dialects/previewproxy/encryption.js';
import type { Dialect } from '../url-signer.js';
import { configFromEnvironment, dialectOption, parse, UsageError, type Command } from './command.js';

const KEY_VARIABLE: Readonly<Record<Dialect, string>> = {
  imgproxy: 'IMGPROXY_SOURCE_URL_ENCRYPTION_KEY',
  previewproxy: 'PP_SOURCE_URL_ENCRYPTION_KEY',
};

function configuredKey(config: Config, dialect: Dialect): Buffer | null {
  return dialect === 'imgproxy' ? config.security.sourceUrlEncryptionKey : config.previewproxy.sourceUrlEncryptionKey;
}

/** With no --dialect: the one dialect that has a key, else PIXPROXY_PATH_DIALECT. */
function defaultDialect(config: Config): Dialect {
  const imgproxy = config.security.sourceUrlEncryptionKey !== null;
  const pp = config.previewproxy.sourceUrlEncryptionKey !== null;
  if (imgproxy !== pp) return imgproxy ? 'imgproxy' : 'previewproxy';
  return config.server.pathDialect;
}

/** A hex option parsed by the same field as the variable, so it accepts exactly the same keys. */
function hexKey(raw: string, option: string): Buffer {
  try {
    const key = schema.previewproxy.sourceUrlEncryptionKey.parse(raw);
    if (key !== null) return key;
  } catch {
    // reported below
  }
  throw new UsageError(`${option}: expected ${schema.previewproxy.sourceUrlEncryptionKey.accepts}`);
}

export const command: Command = {
  usage: [
    'pixproxy encrypt-url <source-url> [--dialect imgproxy|previewproxy] [--key <hex>] [--iv <hex>]',
    '',
    'Prints the blob on stdout and the path segment to use (/enc/<blob>) on stderr.',
    '',
    '  --dialect   previewproxy: PP_SOURCE_URL_ENCRYPTION_KEY, IV derived from the URL (as PreviewProxy)',
    '              imgproxy: IMGPROXY_SOURCE_URL_ENCRYPTION_KEY (imgproxy Pro; not decrypted by this server yet)',
    '              default: the dialect whose key is set, else PIXPROXY_PATH_DIALECT',
    '  --key       hex key of 16, 24 or 32 bytes instead of the variable',
    '  --iv        imgproxy only: 16 bytes in hex instead of the IV derived from the URL',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parse(args, { dialect: { type: 'string' }, key: { type: 'string' }, iv: { type: 'string' } }, { min: 1, max: 1 });
    const url = positionals[0] ?? '';
    const config = configFromEnvironment();
    const dialect = dialectOption(values.dialect) ?? defaultDialect(config);
    const key = values.key !== undefined ? hexKey(values.key, '--key') : configuredKey(config, dialect);
    if (key === null) {
      process.stderr.write(`pixproxy encrypt-url: no ${dialect} key: set ${KEY_VARIABLE[dialect]} or pass --key\n`);
      return 1;
    }
    let blob: string;
    if (dialect === 'imgproxy') {
      const iv = values.iv === undefined ? undefined : Buffer.from(values.iv, 'hex');
      if (iv !== undefined && (iv.length !== 16 || !/^[0-9a-fA-F]{32}$/.test(values.iv ?? ''))) throw new UsageError('--iv: expected 16 bytes in hex (32 hex digits)');
      blob = encryptImgproxy(url, key, iv);
    } else {
      if (values.iv !== undefined) throw new UsageError('--iv: PreviewProxy derives the IV from the URL');
      blob = encryptPreviewProxy(url, key);
    }
    process.stdout.write(`${blob}\n`);
    process.stderr.write(`/enc/${blob}\n`);
    return 0;
  },
};

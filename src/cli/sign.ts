/**
 * `pixproxy sign <path>`: prints the path to request, signed with the keys the server reads
 * (imgproxy: IMGPROXY_KEY, IMGPROXY_SALT, IMGPROXY_SIGNATURE_SIZE; PreviewProxy: PP_HMAC_KEY),
 * IMGPROXY_PATH_PREFIX included. `/proxy?…` is PreviewProxy's; other paths follow
 * PIXPROXY_PATH_DIALECT unless --dialect says otherwise.
 */
import { ProxyError } from '../errors.js';
import { createUrlSigner } from '../url-signer.js';
import { configFromEnvironment, dialectOption, parse, type Command } from './command.js';

export const command: Command = {
  usage: [
    'pixproxy sign <path> [--dialect imgproxy|previewproxy] [--base <url>]',
    '',
    'imgproxy: <path> is what follows the signature, e.g. /rs:fit:300:200/plain/https://example.com/a.jpg@webp',
    '  → /<signature>/rs:fit:300:200/… (IMGPROXY_KEY, IMGPROXY_SALT, IMGPROXY_SIGNATURE_SIZE; `insecure` without a key)',
    'PreviewProxy: /300x200,webp/https://example.com/a.jpg or /proxy?url=…&w=300 → the same with sig= (PP_HMAC_KEY)',
    '',
    '  --dialect   which signature (default: PreviewProxy for /proxy?…, else PIXPROXY_PATH_DIALECT)',
    '  --base      print an absolute URL with this origin, e.g. http://localhost:8080',
  ].join('\n'),
  async run(args) {
    const { values, positionals } = parse(args, { dialect: { type: 'string' }, base: { type: 'string' } }, { min: 1, max: 1 });
    const path = positionals[0] ?? '';
    const config = configFromEnvironment();
    const signer = createUrlSigner(config);
    const dialect = dialectOption(values.dialect) ?? signer.dialectOf(path);
    let signed: string;
    try {
      signed = dialect === 'imgproxy' ? signer.imgproxy(path) : signer.previewproxy(path);
    } catch (err) {
      if (!(err instanceof ProxyError)) throw err;
      process.stderr.write(`pixproxy sign: the server would refuse this ${dialect} path: ${err.message}\n`);
      return 1;
    }
    if (!signer.hasKey(dialect)) {
      process.stderr.write(`pixproxy sign: ${dialect === 'imgproxy' ? 'IMGPROXY_KEY and IMGPROXY_SALT are' : 'PP_HMAC_KEY is'} not set: the server does not check ${dialect} signatures\n`);
    }
    const base = values.base?.replace(/\/+$/, '') ?? '';
    process.stdout.write(`${base}${signed}\n`);
    return 0;
  },
};

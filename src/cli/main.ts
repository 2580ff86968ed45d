/**
 * The `pixproxy` command: dispatches to one subcommand module, prints usage, maps outcomes to
 * exit codes (0 done, 1 failed, 2 bad command line). Started by ./bin.cts.
 */
import { VERSION } from '../version.js';
import { ConfigError, configFailure, UsageError, type Command } from './command.js';

interface Entry {
  readonly name: string;
  /** One line for `pixproxy --help`. */
  readonly summary: string;
  /** Imported only for the command that runs: `health` runs every few seconds in a container. */
  readonly load: () => Promise<{ command: Command }>;
}

const COMMANDS: readonly Entry[] = [
  { name: 'serve', summary: 'run the server (configuration from the environment and ./.env)', load: () => import('./serve.js') },
  { name: 'sign', summary: 'sign a request path (imgproxy or PreviewProxy) with the configured keys', load: () => import('./sign.js') },
  { name: 'encrypt-url', summary: 'encrypt a source URL (PreviewProxy enc/ sources, imgproxy Pro /enc/)', load: () => import('./encrypt-url.js') },
  { name: 'health', summary: 'exit 0 when the server answers /health (container health checks)', load: () => import('./health.js') },
  { name: 'cache stats', summary: "a running server's cache: entries, bytes, purges (through the admin API)", load: async () => ({ command: (await import('./cache-admin.js')).stats }) },
  { name: 'cache purge', summary: 'purge by image URL, source, tag, key prefix or everything (through the admin API)', load: async () => ({ command: (await import('./cache-admin.js')).purge }) },
  { name: 'cache warm', summary: 'request every URL of a file, with a progress bar, to fill the cache', load: () => import('./cache-warm.js') },
  { name: 'config check', summary: 'validate the environment and print the effective configuration (secrets masked)', load: () => import('./config-check.js') },
];

function help(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: pixproxy <command> [options]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}   ${c.summary}`),
    '',
    '`pixproxy <command> --help` describes a command. Configuration comes from the environment',
    'and ./.env, as for the server (docs/configuration.md).',
    '',
  ].join('\n');
}

/** The command named by the leading words of `argv` (`config check` takes two), and the rest. */
function find(argv: readonly string[]): { entry: Entry; rest: string[] } | undefined {
  for (const entry of COMMANDS) {
    const words = entry.name.split(' ');
    if (words.every((w, i) => argv[i] === w)) return { entry, rest: argv.slice(words.length) };
  }
  return undefined;
}

async function dispatch(argv: readonly string[]): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    process.stdout.write(help());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const found = find(argv);
  if (!found) {
    process.stderr.write(`pixproxy: unknown command ${JSON.stringify(argv.slice(0, first === 'config' || first === 'cache' ? 2 : 1).join(' '))}\n\n${help()}`);
    return 2;
  }
  const { entry, rest } = found;
  const { command } = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: ${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`pixproxy ${entry.name}: ${err.message}\n\nusage: ${command.usage}\n`);
      return 2;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(configFailure(err));
      return 1;
    }
    throw err;
  }
}

/** Runs the command line; sets the exit code (serve keeps the process alive). */
export async function run(argv: readonly string[]): Promise<void> {
  try {
    process.exitCode = await dispatch(argv);
  } catch (err) {
    process.stderr.write(`pixproxy: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}

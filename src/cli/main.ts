import { processIo, reportError, UsageError, type Io } from './output.js';
import { loadSettings } from '../config/settings.js';
import { COMMANDS, helpFor, mainHelp } from './help.js';

/** Commands that never go to a server in remote mode. */
const LOCAL = ['help', 'init', 'serve', 'faces', 'migrate', 'db', 'config', 'backup', 'restore'];

/** `--help` or `-h` anywhere among a command's arguments (before `--`). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

function dataDirOf(env: NodeJS.ProcessEnv): string {
  try {
    return loadSettings(env).dataDir;
  } catch {
    return '(invalid settings: run veil config)';
  }
}

/**
 * The CLI. A new command: its usage in help.ts (COMMANDS), a `case` below that imports its module
 * lazily (`veil audit verify` should not pay for loading ONNX Runtime), and LOCAL if it never goes
 * to a server.
 */
export async function run(argv: string[], io: Io = processIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // Remote mode: `veil --url http://host:8080 [--key TOKEN] <command>` (or VEIL_URL / VEIL_API_KEY).
  let url: string | undefined;
  let token: string | undefined;
  while (argv[0] === '--url' || argv[0] === '--key') {
    if (argv[0] === '--url') url = argv[1];
    else token = argv[1];
    argv = argv.slice(2);
  }
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined) {
      io.err(mainHelp(dataDirOf(env)));
      return 2;
    }
    if (cmd === '--help' || cmd === '-h' || (cmd === 'help' && !rest.length)) {
      io.out(mainHelp(dataDirOf(env)));
      return 0;
    }
    // Help never opens a data directory nor reaches a server.
    if (cmd === 'help' || (COMMANDS[cmd] && wantsHelp(rest))) {
      const [name, sub] = cmd === 'help' ? rest : [cmd, rest[0]];
      const text = helpFor(name ?? '', sub);
      if (!text) throw new UsageError(`unknown command '${name}'; 'veil --help' lists them`);
      io.out(text);
      return 0;
    }
    if (!url && (env['VEIL_URL'] || env['VEIL_API_KEY'])) {
      const remote = loadSettings(env).remote;
      url = remote.url;
      token ??= remote.apiKey;
    }
    if (url && !LOCAL.includes(cmd) && !(cmd === 'keys' && rest[0] === 'rotate-master')) {
      return await (await import('./remote.commands.js')).remoteCommand(url, token, argv, io);
    }
    switch (cmd) {
      case 'init':
        return await (await import('./init.commands.js')).initCommand(rest, io, env);
      case 'serve':
        return await (await import('./serve.commands.js')).serveCommand(rest, io);
      case 'config':
        return await (await import('./config.commands.js')).configCommand(rest, io, env);
      case 'migrate':
        return await (await import('./db.commands.js')).migrateCommand(rest, io);
      case 'db':
        return await (await import('./db.commands.js')).dbCommand(rest, io);
      case 'keys':
        if (rest[0] === 'rotate-master')
          return await (await import('./keys.commands.js')).rotateMasterCommand(rest.slice(1), io, env);
        return await (await import('./keys.commands.js')).keysCommand(rest, io);
      case 'backup':
        return await (await import('./backup.commands.js')).backupCommand(rest, io, env);
      case 'restore':
        return await (await import('./backup.commands.js')).restoreCommand(rest, io, env);
      case 'faces':
        return await (await import('./faces.commands.js')).facesCommand(rest, io);
      case 'audit':
        return await (await import('./audit.commands.js')).auditCommand(rest, io);
      case 'purpose':
        return await (await import('./enroll.commands.js')).purposeCommand(rest, io);
      case 'consent':
        return await (await import('./enroll.commands.js')).consentCommand(rest, io);
      case 'subject':
        return await (await import('./enroll.commands.js')).subjectCommand(rest, io);
      case 'identify':
        return await (await import('./gallery.commands.js')).identifyCommand(rest, io);
      case 'matches':
        return await (await import('./matches.commands.js')).matchesCommand(rest, io);
      case 'verify':
        return await (await import('./gallery.commands.js')).verifyCommand(rest, io);
      case 'ingest':
        return await (await import('./ingest.commands.js')).ingestCommand(rest, io);
      case 'media':
        return await (await import('./ingest.commands.js')).mediaCommand(rest, io);
      case 'redact':
        return await (await import('./ingest.commands.js')).redactCommand(rest, io);
      case 'ropa':
      case 'dpia':
      case 'retention':
      case 'order':
      case 'breach':
        return await (await import('./oversight.commands.js')).oversightCommand(cmd, rest, io);
      case 'rights':
        return await (await import('./rights.commands.js')).rightsCommand(rest, io);
      case 'agents':
        return await (await import('./agents.commands.js')).agentsCommand(rest, io);
      default:
        throw new UsageError(`unknown command '${cmd}'; 'veil --help' lists them`);
    }
  } catch (e) {
    return reportError(e, io);
  }
}

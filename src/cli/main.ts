import { processIo, reportError, UsageError, type Io } from './output.js';
import { loadSettings } from '../config/settings.js';

const HELP = `veil - face recognition that is lawful by construction

usage: veil [--url URL --key TOKEN] <command> [options]

With --url (or VEIL_URL and VEIL_API_KEY) commands run against a Veil server.

  serve     the HTTP API, its docs and the web UI (npm start)
  config    every setting: effective value (secrets masked), where it came from, what it does
  keys      API keys bound to a role and purposes; keys rotate-master: a new master key
  migrate   apply pending schema migrations (or --status); run before starting new servers
  db check  connection, schema, audit log, keys, erased subjects, files, change feed
  backup    a copy of the database and sealed files that never holds a key
  restore   put a backup in place and replay the erasures made since
  faces     detect, embed, compare faces; calibrate thresholds
  audit     signed tree heads, proofs, export and offline verification of the audit log
  purpose   create and list processing purposes (lawful basis, retention)
  consent   record or withdraw consent; signed receipts
  subject   enroll a subject's face under a purpose
  identify  1:N search of a purpose's gallery (with case reference or justification)
  verify    1:1 check against a subject or a second photo
  ingest    match operator photos (a folder) against consenting subjects; resumable
  redact    a photo with every face blurred except consenting matches
  rights    data-subject requests: submit, verify, list, show, extend, fulfil, deny
  agents    authorized agents of the Data Rights Protocol: add, list, revoke (admin)
  ropa      record of processing activities (Art. 30), JSON with DPV terms or Markdown
  dpia      a pre-filled impact assessment draft per purpose (Art. 35)
  retention run the retention job (or --dry-run); the public schedule
  order     regulator orders: record, act, list, close, evidence bundle
  breach    breach register with the 72-hour clock

Run 'veil <command> --help' for a command's options.
`;

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
    if (!url && (env['VEIL_URL'] || env['VEIL_API_KEY'])) {
      const remote = loadSettings(env).remote;
      url = remote.url;
      token ??= remote.apiKey;
    }
    const local = ['--help', '-h', 'help', 'serve', 'faces', 'migrate', 'db', 'config', 'backup', 'restore'];
    if (url && cmd && !local.includes(cmd) && !(cmd === 'keys' && rest[0] === 'rotate-master')) {
      return await (await import('./remote.commands.js')).remoteCommand(url, token, argv, io);
    }
    switch (cmd) {
      case undefined:
        io.err(HELP);
        return 2;
      case '--help':
      case '-h':
      case 'help':
        io.out(HELP);
        return 0;
      // Commands load lazily: `veil audit verify` should not pay for loading ONNX Runtime.
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
        return await (await import('./serve.commands.js')).keysCommand(rest, io);
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
      case 'verify':
        return await (await import('./gallery.commands.js')).verifyCommand(rest, io);
      case 'ingest':
        return await (await import('./gallery.commands.js')).ingestCommand(rest, io);
      case 'ropa':
      case 'dpia':
      case 'retention':
      case 'order':
      case 'breach':
        return await (await import('./oversight.commands.js')).oversightCommand(cmd, rest, io);
      case 'rights':
        return await (await import('./rights.commands.js')).rightsCommand(rest, io);
      case 'redact':
        return await (await import('./gallery.commands.js')).redactCommand(rest, io);
      case 'agents':
        return await (await import('./agents.commands.js')).agentsCommand(rest, io);
      default:
        throw new UsageError(`unknown command '${cmd}'\n${HELP}`);
    }
  } catch (e) {
    return reportError(e, io);
  }
}

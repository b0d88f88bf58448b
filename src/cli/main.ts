import { processIo, reportError, UsageError, type Io } from './output.js';

const HELP = `veil - face recognition that is lawful by construction

usage: veil <command> [options]

  faces     detect, embed, compare faces; calibrate thresholds
  audit     signed tree heads, proofs, export and offline verification of the audit log

Run 'veil <command> --help' for a command's options.
`;

export async function run(argv: string[], io: Io = processIo): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
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
      case 'faces':
        return await (await import('./faces.commands.js')).facesCommand(rest, io);
      case 'audit':
        return await (await import('./audit.commands.js')).auditCommand(rest, io);
      default:
        throw new UsageError(`unknown command '${cmd}'\n${HELP}`);
    }
  } catch (e) {
    return reportError(e, io);
  }
}

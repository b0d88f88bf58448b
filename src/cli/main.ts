import { facesCommand } from './faces.commands.js';
import { processIo, reportError, UsageError, type Io } from './output.js';

const HELP = `veil - face recognition that is lawful by construction

usage: veil <command> [options]

  faces     detect, embed, compare faces; calibrate thresholds

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
      case 'faces':
        return await facesCommand(rest, io);
      default:
        throw new UsageError(`unknown command '${cmd}'\n${HELP}`);
    }
  } catch (e) {
    return reportError(e, io);
  }
}

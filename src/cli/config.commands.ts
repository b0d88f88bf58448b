import { loadSettings, maskedSettings, type MaskedSetting } from '../config/settings.js';
import { parseCommand } from './args.js';
import { UsageError, type Io } from './output.js';

const USAGE = `usage: veil config [--json]
Every setting with its config file key, environment variable, effective value (secrets masked),
where the value came from (default < file < env) and what it does. Precedence: defaults, then the
JSON file named by VEIL_CONFIG, then the environment. Exit 1 names each invalid setting.`;

/** `veil config`: what this process would run with, safe to paste into a ticket. */
export async function configCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (io.out(USAGE + '\n'), 0);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${USAGE}`);
  const rows = maskedSettings(loadSettings(env));
  io.out(values.json ? JSON.stringify({ settings: rows }) + '\n' : table(rows));
  return 0;
}

function shown(v: unknown): string {
  return v === null ? '-' : typeof v === 'string' ? v : JSON.stringify(v);
}

function table(rows: readonly MaskedSetting[]): string {
  const cells = [
    ['KEY', 'ENV', 'VALUE', 'SOURCE', 'DESCRIPTION'],
    ...rows.map((r) => [r.key, r.env ?? '(file only)', shown(r.value), r.source, r.doc]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((x, i) => (i < 4 ? x.padEnd(widths[i]!) : x)).join('  ')).join('\n') + '\n';
}

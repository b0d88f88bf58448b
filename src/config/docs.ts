import { SETTINGS } from './settings.js';

const INTRO = `# Configuration

<!-- Generated from src/config/table.ts by scripts/settings-doc.ts; edit the table and rerun the script. A test fails when this file and the table differ. -->

Veil reads every setting in three layers; a later layer wins:

1. the defaults below, safe for the embedded single-machine mode;
2. the JSON file named by \`VEIL_CONFIG\`, nested by key path (\`engine.workers\` is \`{"engine": {"workers": 4}}\`);
3. environment variables.

\`veil config\` prints each setting's effective value (secrets masked), where it came from (default, file or env) and
what it does; \`veil config --json\` prints the same as one JSON document.

Values: booleans accept \`true\`, \`false\`, \`1\` and \`0\`; numbers are integers; an empty environment variable or a
\`null\` in the file counts as unset. An unknown key in the file is an error, as is a value that does not fit: every
command and server stops at start with \`INVALID_INPUT\` naming each bad setting and its variable.

Secrets are never printed. Give them from a secret store through the environment rather than the file, and keep
\`VEIL_MASTER_KEY\` apart from the database and its backups.
`;

const PER_PURPOSE = `
## Settings kept with each purpose

Some settings belong to a purpose, not to the deployment: they are stored with it, changed by an admin key bound to
that purpose (or the CLI), and every change is an audit entry (\`purpose.updated\`) with the old and new value.

| Setting | Default | Limits | Change it with | What it does |
| --- | --- | --- | --- | --- |
| \`fpir\` | \`0.01\` | 0.0001 to 0.05 | \`veil purpose set-fpir <purpose> <rate>\`, \`PATCH /v1/purposes/{purpose}\` \`{"fpir": 0.001}\`, or \`fpir\` when the purpose is declared | Target false-positive identification rate of the purpose's identifications: the chance that a face of someone not in the gallery returns a candidate. The decision threshold follows from it and the number of templates searched (docs/accuracy.md), never below the calibrated 1:1 threshold. A request may ask for a stricter threshold, never a looser one. |
`;

/** docs/configuration.md before formatting; scripts/settings-doc.ts runs it through Prettier. */
export function settingsMarkdown(): string {
  const rows = SETTINGS.map(({ key, setting: s }) => {
    // A literal default reads as code; a described one (computed, unset, annotated) as prose.
    const plainDefault = s.defaultDoc !== JSON.stringify(s.default);
    return [
      '`' + key + '`' + (s.envOnly ? ' (environment only)' : ''),
      s.env ? '`' + s.env + '`' : 'file only',
      plainDefault ? text(s.defaultDoc) : '`' + s.defaultDoc.replaceAll('|', '\\|') + '`',
      s.secret ? 'yes' : '',
      text(s.doc),
    ];
  });
  const table = [
    ['Key', 'Environment variable', 'Default', 'Secret', 'Description'],
    ['---', '---', '---', '---', '---'],
    ...rows,
  ].map((r) => `| ${r.join(' | ')} |`);
  return `${INTRO}\n## Settings\n\n${table.join('\n')}\n${PER_PURPOSE}`;
}

/** Prose for a table cell: angle brackets would read as HTML, a pipe as a column. */
function text(s: string): string {
  return s.replace(/[<>|]/g, (c) => '\\' + c);
}

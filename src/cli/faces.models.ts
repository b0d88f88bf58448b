import { parseCommand } from './args.js';
import { cliActor, openLocalServices } from './context.js';
import { UsageError, type Io } from './output.js';
import { usageOf } from './help.js';
import type { ReembedReport } from '../gallery/model-switch.service.js';

/** `veil faces status`: templates per model id; only the active model's are matched. */
export async function modelStatusCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, usageOf('faces', 'status'));
  if (positionals.length) throw new UsageError(usageOf('faces', 'status'));
  const v = await openLocalServices(io);
  try {
    const s = await v.models.status(cliActor());
    if (values.json) io.out(JSON.stringify(s) + '\n');
    else {
      const { threshold, strictThreshold, tail } = s.calibration;
      const f = tail.fittedOn;
      io.out(
        `active model: ${s.active}\ndecides with: threshold ${threshold} (1:1, and the floor of identification), ${strictThreshold} for identity proof; impostor tail fitted on ${f.identities} people, ${f.photos} photos, ${f.impostorPairs} different-person pairs (${f.dataset}, ${f.at})\n\nMODEL\tTEMPLATES\tWITH PHOTO\n`,
      );
      for (const m of s.models) io.out(`${m.model}${m.active ? ' (active)' : ''}\t${m.templates}\t${m.withPhoto}\n`);
      io.out(
        s.stale
          ? `\n${s.stale} template(s) of other models are not matched: run 'veil faces reembed'.\n`
          : '\nEvery template is of the active model.\n',
      );
      if (s.staleSuppressions) io.out(notCarried(s.staleSuppressions));
    }
    return 0;
  } finally {
    await v.close();
  }
}

/**
 * `veil faces reembed`: every template of another model made again under the active one from its
 * kept photo; who must re-enroll listed (a table, or the report as one JSON document).
 */
export async function reembedCommand(argv: string[], io: Io): Promise<number> {
  const usage = usageOf('faces', 'reembed');
  const { values, positionals } = parseCommand(
    argv,
    { json: { type: 'boolean' }, 'dry-run': { type: 'boolean' }, model: { type: 'string' } },
    usage,
  );
  if (positionals.length) throw new UsageError(usage);
  const v = await openLocalServices(io);
  try {
    const r = await v.models.reembed(cliActor(), {
      dryRun: values['dry-run'] ?? false,
      model: values.model,
      ...(io.stderrIsTty ? { onProgress: (n: number) => io.err(`\rre-embedding: ${n} template(s) looked at`) } : {}),
    });
    if (io.stderrIsTty) io.err('\n');
    io.out(values.json ? JSON.stringify(r) + '\n' : table(r));
    return 0;
  } finally {
    await v.close();
  }
}

const notCarried = (n: number) =>
  `\n${n} do-not-enroll entr${n === 1 ? 'y was' : 'ies were'} made under another model: they block nobody under the active one, and no run can make them again (the list keeps no photo). See docs/models.md.\n`;

function table(r: ReembedReport): string {
  const lines = [
    `${r.dryRun ? 'would re-embed' : 're-embedded'} ${r.reembedded} template(s) under ${r.model}` +
      (r.held ? `; ${r.held} of restricted subjects held back (run again once lifted)` : ''),
  ];
  const warning = r.suppressionsNotCarried ? notCarried(r.suppressionsNotCarried) : '';
  if (!r.reenroll.length) return lines.join('\n') + '\nnobody needs to re-enroll\n' + warning;
  lines.push(`${r.reenroll.length} must re-enroll (no kept photo to re-embed from):`, '');
  lines.push('SUBJECT\tPURPOSE\tCONSENT / SOURCE\tTEMPLATES\tWHY');
  for (const e of r.reenroll)
    lines.push(
      [e.subjectId, e.purpose, e.consentId ?? e.sourceReference ?? '-', e.templates, e.reasons.join(',')].join('\t'),
    );
  return lines.join('\n') + '\n' + warning;
}

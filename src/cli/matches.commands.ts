import { parseCommand } from './args.js';
import { cliActor } from './context.js';
import { UsageError, type Io } from './output.js';
import { usageOf } from './help.js';
import { out, withVeil } from './gallery.shared.js';
import { matchLine } from './identify.format.js';

/**
 * `veil matches list|confirm|reject`: the two-person rule (EU AI Act Art. 14(5)) from the command
 * line. Faces are numbered from 1, as `veil identify` prints them (the API counts from 0).
 */
export async function matchesCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'list' && sub !== 'confirm' && sub !== 'reject') throw new UsageError(usageOf('matches'));
  const { values, positionals } = parseCommand(
    rest,
    { json: { type: 'boolean' }, face: { type: 'string' }, subject: { type: 'string' } },
    usageOf('matches', sub),
  );
  const searchId = positionals[0];
  if (positionals.length !== 1 || !searchId) throw new UsageError(usageOf('matches', sub));
  if (sub === 'list') {
    if (values.face || values.subject) throw new UsageError(usageOf('matches', sub));
    return withVeil(io, async (v) => {
      const s = await v.search.confirmations(cliActor(), searchId);
      const head = `search ${s.searchId} (${s.purpose}, ${s.at}): ${s.matches.length} match(es)`;
      out(io, values.json, [head, ...s.matches.map(matchLine)].join('\n'), s);
      return 0;
    });
  }
  const face = Number(values.face);
  if (!values.subject || !Number.isInteger(face) || face < 1) throw new UsageError(usageOf('matches', sub));
  return withVeil(io, async (v) => {
    const m = { searchId, face: face - 1, subjectId: values.subject! };
    const r =
      sub === 'confirm' ? await v.search.confirmMatch(cliActor(), m) : await v.search.rejectMatch(cliActor(), m);
    out(io, values.json, matchLine(r), r);
    return 0;
  });
}

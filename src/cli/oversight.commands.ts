import { readFile, writeFile } from 'node:fs/promises';
import { parseCommand } from './args.js';
import { cliActor, openLocalServices, type LocalServices } from './context.js';
import { UsageError, type Io } from './output.js';
import { ropaMarkdown } from '../oversight/ropa.js';
import { VeilError } from '../errors.js';

const HELP = `veil ropa [--json | --md] [--out FILE]           record of processing (Art. 30)
veil dpia --purpose P [--out FILE]                  DPIA draft (Art. 35) for a human to complete
veil retention run [--dry-run]                      erase what is past retention (with certificates)
veil retention schedule                             the public retention schedule
veil order record --file ORDER.json                 a regulator's order (authority, reference, receivedAt, deadline, demands)
veil order act <id> --kind K --description D [--purpose P]   kinds: suspend-purpose resume-purpose erasure export answer other
veil order list [--overdue] | close <id> | bundle <id> --out FILE.zip
veil breach record --file BREACH.json | notify <id> --reference R | people <id> --inform yes|no --reason R | list [--overdue]
Every command takes --json.`;

async function withVeil(io: Io, fn: (v: LocalServices) => Promise<number>): Promise<number> {
  const v = await openLocalServices(io);
  try {
    return await fn(v);
  } finally {
    await v.close();
  }
}

const opts = {
  json: { type: 'boolean' },
  md: { type: 'boolean' },
  out: { type: 'string' },
  purpose: { type: 'string' },
  'dry-run': { type: 'boolean' },
  file: { type: 'string' },
  kind: { type: 'string' },
  description: { type: 'string' },
  overdue: { type: 'boolean' },
  reference: { type: 'string' },
  inform: { type: 'string' },
  reason: { type: 'string' },
} as const;

async function readJson(path: string | undefined): Promise<unknown> {
  if (!path) throw new UsageError('--file is required');
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new VeilError('INVALID_INPUT', `${path}: not a readable JSON file (${(e as Error).message}).`);
  }
}

export async function oversightCommand(cmd: string, argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = cmd === 'ropa' || cmd === 'dpia' ? ['', ...argv] : argv;
  const { values, positionals } = parseCommand(rest, opts, HELP);
  if (values.help) return (io.out(HELP + '\n'), 0);
  const emit = async (human: string, doc: unknown) => {
    const text = values.json ? JSON.stringify(doc, null, 2) + '\n' : human.endsWith('\n') ? human : human + '\n';
    if (values.out) await writeFile(values.out, text);
    else io.out(text);
  };
  const actor = cliActor();
  return withVeil(io, async (v) => {
    if (cmd === 'ropa') {
      const r = await v.records.ropa(actor);
      await emit(ropaMarkdown(r), r);
      return 0;
    }
    if (cmd === 'dpia') {
      if (!values.purpose) throw new UsageError('usage: veil dpia --purpose P');
      const md = await v.records.dpia(actor, values.purpose);
      await emit(md, { purpose: values.purpose, markdown: md });
      return 0;
    }
    if (cmd === 'retention' && sub === 'run') {
      const r = await v.retention.run(actor, { dryRun: values['dry-run'] ?? false });
      await emit(
        `${r.dryRun ? 'DRY RUN: would erase' : 'erased'}: ${r.enrollments.length} enrollment(s) past retention (${r.enrollments.filter((e) => e.action === 'erase-subject').length} whole subjects), ${r.media} photo(s), ${r.searches} search record(s)\n${r.enrollments.map((e) => `  ${e.subjectId} ${e.purpose} expired ${e.expiredAt.slice(0, 10)} (${e.reason}) -> ${e.action}`).join('\n')}`,
        r,
      );
      return 0;
    }
    if (cmd === 'retention' && sub === 'schedule') {
      const s = await v.retention.schedule();
      await emit(
        s.map((x) => `${x.purpose}\t${x.name}\tkept ${x.retention} after the last interaction\t${x.status}`).join('\n'),
        s,
      );
      return 0;
    }
    if (cmd === 'order') {
      if (sub === 'record') {
        const o = await v.orders.record(actor, await readJson(values.file));
        await emit(`recorded order ${o.id} (${o.authority} ${o.reference}), deadline ${o.deadline}`, o);
      } else if (sub === 'act') {
        const o = await v.orders.act(actor, positionals[0] ?? '', {
          kind: values.kind,
          description: values.description,
          ...(values.purpose ? { purpose: values.purpose } : {}),
        });
        await emit(`order ${o.id}: ${o.actions.length} action(s)`, o);
      } else if (sub === 'list') {
        const list = await v.orders.list(actor, { overdue: Boolean(values.overdue) });
        await emit(
          list
            .map(
              (o) =>
                `${o.id}\t${o.authority}\t${o.reference}\t${o.status}\tdeadline ${o.deadline.slice(0, 10)}${o.overdue ? ' OVERDUE' : ''}`,
            )
            .join('\n') || '(no orders)',
          list,
        );
      } else if (sub === 'close') {
        const o = await v.orders.close(actor, positionals[0] ?? '');
        await emit(`order ${o.id} closed`, o);
      } else if (sub === 'bundle') {
        if (!values.out) throw new UsageError('usage: veil order bundle <id> --out FILE.zip');
        const zip = await v.orders.bundle(actor, positionals[0] ?? '');
        await writeFile(values.out, zip);
        io.out(`evidence bundle written to ${values.out} (${zip.length} bytes)\n`);
      } else throw new UsageError(HELP);
      return 0;
    }
    if (cmd === 'breach') {
      if (sub === 'record') {
        const b = await v.breaches.record(actor, await readJson(values.file));
        await emit(`recorded breach ${b.id}; notify the supervisory authority by ${b.notifyBy}`, b);
      } else if (sub === 'notify') {
        if (!values.reference) throw new UsageError('usage: veil breach notify <id> --reference R');
        const b = await v.breaches.notify(actor, positionals[0] ?? '', values.reference);
        await emit(`breach ${b.id} notified (${b.notificationRef})`, b);
      } else if (sub === 'people') {
        if (!values.inform || !values.reason)
          throw new UsageError('usage: veil breach people <id> --inform yes|no --reason R');
        const b = await v.breaches.decidePeople(actor, positionals[0] ?? '', values.inform === 'yes', values.reason);
        await emit(`breach ${b.id}: people ${b.peopleInformed ? 'will be' : 'will not be'} informed`, b);
      } else if (sub === 'list') {
        const list = await v.breaches.list(actor, { overdue: Boolean(values.overdue) });
        await emit(
          list
            .map(
              (b) =>
                `${b.id}\tdiscovered ${b.discoveredAt}\tnotify by ${b.notifyBy}\t${b.notifiedAt ? 'notified' : b.overdue ? 'OVERDUE' : 'open'}`,
            )
            .join('\n') || '(no breaches)',
          list,
        );
      } else throw new UsageError(HELP);
      return 0;
    }
    throw new UsageError(HELP);
  });
}

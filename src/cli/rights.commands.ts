import { readFile, writeFile } from 'node:fs/promises';
import { parseCommand } from './args.js';
import { cliActor, openLocalVeil } from './context.js';
import { UsageError, type Io } from './output.js';
import { VeilError } from '../errors.js';
import { daysLeft, effectiveDue, isOverdue, type RequestKind, type RightsRequest } from '../rights/request.js';
import type { Veil } from '../app/veil.js';

const HELP = `veil rights <command>

  submit --kind K --email E [--subject S] [--receipt R] [--details TEXT] [--lang en|fr]
         kinds: access rectification erasure restriction lift-restriction portability objection withdraw-consent
  verify <id> --code CODE [--selfie FILE]...     prints the requester's download token
  list [--open] [--overdue]
  show <id>
  extend <id> --months 1|2 --reason TEXT         once, before the first deadline; the person is told
  fulfil <id> [--out FILE] [--suppress] [--new-email E] [--remove-template ID]...
  deny <id> --reason TEXT --ground TEXT
Every command takes --json.`;

function line(r: RightsRequest, now: Date): string {
  const left = daysLeft(r, now);
  const flag = isOverdue(r, now) ? ' OVERDUE' : '';
  return `${r.id}\t${r.kind}\t${r.state}\tdue ${effectiveDue(r).slice(0, 10)} (${left} day(s) left)${flag}`;
}

export async function rightsCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommand(
    rest,
    {
      json: { type: 'boolean' },
      kind: { type: 'string' },
      email: { type: 'string' },
      subject: { type: 'string' },
      receipt: { type: 'string' },
      details: { type: 'string' },
      lang: { type: 'string' },
      code: { type: 'string' },
      selfie: { type: 'string', multiple: true },
      open: { type: 'boolean' },
      overdue: { type: 'boolean' },
      months: { type: 'string' },
      reason: { type: 'string' },
      ground: { type: 'string' },
      out: { type: 'string' },
      suppress: { type: 'boolean' },
      'new-email': { type: 'string' },
      'remove-template': { type: 'string', multiple: true },
    },
    HELP,
  );
  if (values.help || !sub) return (io.out(HELP + '\n'), sub ? 0 : 2);
  const print = (human: string, doc: unknown) => io.out(values.json ? JSON.stringify(doc) + '\n' : human + '\n');
  const needId = () => {
    if (positionals.length !== 1) throw new UsageError(`usage: veil rights ${sub} <id> ...`);
    return positionals[0]!;
  };
  const run = async (fn: (v: Veil) => Promise<number>) => {
    const v = await openLocalVeil(io);
    try {
      return await fn(v);
    } finally {
      await v.close();
    }
  };
  switch (sub) {
    case 'submit':
      if (!values.kind || !values.email) throw new UsageError('usage: veil rights submit --kind K --email E');
      return run(async (v) => {
        const r = await v.rights.submit({
          kind: values.kind as RequestKind,
          email: values.email!,
          ...(values.subject ? { subjectId: values.subject } : {}),
          ...(values.receipt ? { consentReceiptId: values.receipt } : {}),
          details: values.details ?? '',
          language: values.lang === 'fr' ? 'fr' : 'en',
        });
        print(
          `request ${r.requestId} received; a verification code was sent to the email address; due ${r.dueAt.slice(0, 10)}`,
          r,
        );
        return 0;
      });
    case 'verify': {
      const id = needId();
      if (!values.code) throw new UsageError('usage: veil rights verify <id> --code CODE [--selfie FILE]...');
      const selfies = await Promise.all(
        (values.selfie ?? []).map((f) =>
          readFile(f).catch(() => {
            throw new VeilError('NOT_FOUND', `${f}: no such file.`);
          }),
        ),
      );
      return run(async (v) => {
        const r = await v.rights.verify(id, { code: values.code!, selfies });
        print(`verified; ${r.subjectsFound} record(s) found; download token ${r.downloadToken}`, r);
        return 0;
      });
    }
    case 'list':
      return run(async (v) => {
        const list = await v.rights.list({
          ...(values.open ? { open: true } : {}),
          ...(values.overdue ? { overdue: true } : {}),
        });
        const now = v.clock.now();
        const counts = await v.rights.counts();
        print([...list.map((r) => line(r, now)), `${counts.open} open, ${counts.overdue} overdue`].join('\n'), {
          requests: list,
          ...counts,
        });
        return 0;
      });
    case 'show': {
      const id = needId();
      return run(async (v) => {
        const r = await v.rights.get(id);
        print(
          `${line(r, v.clock.now())}\nreceived ${r.receivedAt}\n${r.history.map((h) => `  ${h.at} ${h.state} by ${h.actor}${h.note ? `: ${h.note}` : ''}`).join('\n')}${r.outcome ? `\noutcome ${JSON.stringify(r.outcome).slice(0, 400)}` : ''}`,
          r,
        );
        return 0;
      });
    }
    case 'extend': {
      const id = needId();
      if (!values.months || !values.reason)
        throw new UsageError('usage: veil rights extend <id> --months 1|2 --reason TEXT');
      return run(async (v) => {
        const r = await v.rights.extend(id, Number(values.months), values.reason!, cliActor());
        print(`deadline extended to ${r.extendedDueAt}`, r);
        return 0;
      });
    }
    case 'deny': {
      const id = needId();
      if (!values.reason || !values.ground)
        throw new UsageError('usage: veil rights deny <id> --reason TEXT --ground TEXT');
      return run(async (v) => {
        const r = await v.rights.deny(id, values.reason!, values.ground!, cliActor());
        print(`request ${r.id} denied`, r);
        return 0;
      });
    }
    case 'fulfil': {
      const id = needId();
      return run(async (v) => {
        const r = await v.rights.fulfil(id, cliActor(), {
          ...(values.suppress ? { suppress: true } : {}),
          ...(values['new-email'] ? { newEmail: values['new-email'] } : {}),
          ...(values['remove-template'] ? { removeTemplateIds: values['remove-template'] } : {}),
        });
        if (values.out && (r.download || r.certificate))
          await writeFile(values.out, r.download ?? JSON.stringify(r.certificate, null, 2) + '\n');
        print(`request ${r.request.id} ${r.request.state}${values.out ? `; written to ${values.out}` : ''}`, {
          request: r.request,
          certificate: r.certificate ?? null,
        });
        return 0;
      });
    }
    default:
      throw new UsageError(`unknown command 'rights ${sub}'\n${HELP}`);
  }
}

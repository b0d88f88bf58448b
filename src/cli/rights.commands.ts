import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readFile, writeFile } from 'node:fs/promises';
import { parseCommand } from './args.js';
import { cliActor, openLocalServices, type LocalServices } from './context.js';
import { UsageError, type Io } from './output.js';
import { VeilError } from '../errors.js';
import { effectiveDue, type RequestKind, type RightsRequest } from '../rights/request.js';

const HELP = `veil rights <command>

  submit --kind K --email E [--subject S] [--receipt R] [--details TEXT] [--lang en|fr]
         kinds: access rectification erasure restriction lift-restriction portability objection withdraw-consent contest
  verify <id> --code CODE [--selfie FILE]...     prints the requester's download token
  list [--open] [--overdue] [--review]
  show <id>
  review <id> --decision approve|reject [--subject S]... --note TEXT
                                                 decide on subjects found by face or held under another basis
  extend <id> --months 1|2 --reason TEXT         once, before the first deadline; the person is told
  fulfil <id> [--out FILE] [--suppress] [--new-email E] [--remove-template ID]...
  deny <id> --reason TEXT --ground TEXT
Every command takes --json.`;

function line(r: RightsRequest & { daysLeft: number; overdue: boolean }): string {
  const flag = r.overdue ? ' OVERDUE' : '';
  const review = r.review?.state === 'pending' ? ` REVIEW (${r.review.items.length})` : '';
  return `${r.id}\t${r.kind}\t${r.state}\tdue ${effectiveDue(r).slice(0, 10)} (${r.daysLeft} day(s) left)${flag}${review}`;
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
      review: { type: 'boolean' },
      decision: { type: 'string' },
      note: { type: 'string' },
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
  const run = async (fn: (v: LocalServices) => Promise<number>) => {
    const v = await openLocalServices(io);
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
        const r = await v.rights.intake.submit({
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
        const r = await v.rights.intake.verify(id, { code: values.code!, selfies });
        const review = selfies.length ? '; the search by face goes to the DPO for review' : '';
        print(`verified${review}; download token ${r.downloadToken}`, r);
        return 0;
      });
    }
    case 'list':
      return run(async (v) => {
        const list = (
          await v.rights.queue.list(cliActor(), {
            open: Boolean(values.open),
            overdue: Boolean(values.overdue),
            review: Boolean(values.review),
          })
        ).map((r) => v.rights.queue.view(r));
        const counts = await v.rights.queue.counts();
        print(
          [
            ...list.map((r) => line(r)),
            `${counts.open} open, ${counts.overdue} overdue, ${counts.awaitingReview} awaiting review`,
          ].join('\n'),
          {
            requests: list,
            ...counts,
          },
        );
        return 0;
      });
    case 'show': {
      const id = needId();
      return run(async (v) => {
        const r = v.rights.queue.view(await v.rights.queue.get(cliActor(), id));
        const review = r.review
          ? `\nreview ${r.review.state}: ${r.review.items.map((i) => `${i.subjectId} (${i.why}${i.similarity !== null ? ` ${i.similarity}` : ''})`).join(', ') || 'nobody beyond what the address links'}; liveness ${r.review.liveness}`
          : '';
        print(
          `${line(r)}${review}\nreceived ${r.receivedAt}\n${r.history.map((h) => `  ${h.at} ${h.state} by ${h.actor}${h.note ? `: ${h.note}` : ''}`).join('\n')}${r.outcome ? `\noutcome ${JSON.stringify(r.outcome).slice(0, 400)}` : ''}`,
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
        const r = await v.rights.queue.extend(cliActor(), id, Number(values.months), values.reason!);
        print(`deadline extended to ${r.extendedDueAt}`, r);
        return 0;
      });
    }
    case 'deny': {
      const id = needId();
      if (!values.reason || !values.ground)
        throw new UsageError('usage: veil rights deny <id> --reason TEXT --ground TEXT');
      return run(async (v) => {
        const r = await v.rights.queue.deny(cliActor(), id, values.reason!, values.ground!);
        print(`request ${r.id} denied`, r);
        return 0;
      });
    }
    case 'fulfil': {
      const id = needId();
      return run(async (v) => {
        const r = await v.rights.queue.fulfil(cliActor(), id, {
          ...(values.suppress ? { suppress: true } : {}),
          ...(values['new-email'] ? { newEmail: values['new-email'] } : {}),
          ...(values['remove-template'] ? { removeTemplateIds: values['remove-template'] } : {}),
        });
        if (values.out && r.certificate) await writeFile(values.out, JSON.stringify(r.certificate, null, 2) + '\n');
        else if (values.out && r.request.outcome?.['artifactId'])
          await pipeline(
            Readable.from((await v.rights.queue.downloadStream(cliActor(), id)).chunks),
            createWriteStream(values.out, { mode: 0o600 }),
          );
        print(`request ${r.request.id} ${r.request.state}${values.out ? `; written to ${values.out}` : ''}`, {
          request: r.request,
          certificate: r.certificate ?? null,
        });
        return 0;
      });
    }
    case 'review': {
      const id = needId();
      if ((values.decision !== 'approve' && values.decision !== 'reject') || !values.note)
        throw new UsageError('usage: veil rights review <id> --decision approve|reject [--subject S]... --note TEXT');
      return run(async (v) => {
        const r = await v.rights.queue.review(cliActor(), id, {
          decision: values.decision as 'approve',
          subjects: values.subject ? [values.subject].flat() : undefined,
          note: values.note!,
        });
        print(`request ${r.request.id}: review ${r.request.review?.state}; ${r.request.state}`, {
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

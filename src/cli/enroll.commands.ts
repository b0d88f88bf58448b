import { readFile, writeFile } from 'node:fs/promises';
import { parseCommand } from './args.js';
import { cliActor } from './context.js';
import { UsageError, type Io } from './output.js';
import { VeilError } from '../errors.js';
import { out, readImage, withVeil } from './gallery.shared.js';
import { helpFor, usageOf } from './help.js';

export async function purposeCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'set-fpir') return setFpir(rest, io);
  const { values } = parseCommand(
    rest,
    {
      json: { type: 'boolean' },
      key: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
      basis: { type: 'string' },
      art9: { type: 'string' },
      'legal-ref': { type: 'string' },
      retention: { type: 'string' },
      recipient: { type: 'string', multiple: true },
      'requires-case-ref': { type: 'boolean' },
      'keep-images': { type: 'boolean' },
    },
    usageOf('purpose', sub === 'list' ? 'list' : 'create'),
  );
  if (!sub) return (io.err(helpFor('purpose')!), 2);
  if (sub === 'list') {
    return withVeil(io, async (v) => {
      const list = await v.purposes.list(cliActor());
      out(
        io,
        values.json,
        list
          .map(
            (p) =>
              `${p.key}\t${p.lawfulBasis}/${p.art9Condition}\tretention ${p.retention}\t${p.status}\ttemplates ${p.templates}`,
          )
          .join('\n') || '(no purposes)',
        list,
      );
      return 0;
    });
  }
  if (sub !== 'create') throw new UsageError(`unknown command 'purpose ${sub}'\n${helpFor('purpose')}`);
  return withVeil(io, async (v) => {
    const p = await v.purposes.create(cliActor(), {
      key: values.key,
      name: values.name,
      description: values.description,
      lawfulBasis: values.basis,
      art9Condition: values.art9,
      legalReference: values['legal-ref'] ?? null,
      retention: values.retention,
      recipients: values.recipient ?? [],
      requiresCaseRef: values['requires-case-ref'] ?? false,
      keepSourceImages: values['keep-images'] ?? false,
    } as never);
    out(
      io,
      values.json,
      `created purpose ${p.key} (${p.id}): ${p.lawfulBasis}, Art. 9(2) ${p.art9Condition}, retention ${p.retention}`,
      p,
    );
    return 0;
  });
}

/** `veil purpose set-fpir <purpose> <rate>`: the purpose's target FPIR, within its limits (audited). */
async function setFpir(argv: string[], io: Io): Promise<number> {
  const usage = usageOf('purpose', 'set-fpir');
  const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, usage);
  const rate = Number(positionals[1]);
  if (positionals.length !== 2 || !positionals[1]!.trim() || !Number.isFinite(rate)) throw new UsageError(usage);
  return withVeil(io, async (v) => {
    const p = await v.purposes.setFpir(cliActor(), positionals[0]!, rate);
    out(io, values.json, `purpose ${p.key}: target FPIR ${p.fpir}`, p);
    return 0;
  });
}

export async function consentCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommand(
    rest,
    {
      json: { type: 'boolean' },
      purpose: { type: 'string' },
      'notice-file': { type: 'string' },
      'notice-version': { type: 'string' },
      method: { type: 'string' },
      collector: { type: 'string' },
      subject: { type: 'string' },
      email: { type: 'string' },
      'receipt-out': { type: 'string' },
    },
    usageOf('consent', sub === 'withdraw' ? 'withdraw' : 'give'),
  );
  if (!sub) return (io.err(helpFor('consent')!), 2);
  if (sub === 'withdraw') {
    if (positionals.length !== 1) throw new UsageError(usageOf('consent', 'withdraw'));
    return withVeil(io, async (v) => {
      const r = await v.consents.withdraw(cliActor(), positionals[0]!);
      out(
        io,
        values.json,
        `consent ${r.consent.id} is ${r.consent.state}; ${r.templatesDeleted} template(s) deleted`,
        r,
      );
      return 0;
    });
  }
  if (sub !== 'give') throw new UsageError(`unknown command 'consent ${sub}'\n${helpFor('consent')}`);
  if (!values.purpose || !values['notice-file'] || !values['notice-version'] || !values.method || !values.collector)
    throw new UsageError(usageOf('consent', 'give'));
  const noticeText = await readFile(values['notice-file'], 'utf8').catch(() => {
    throw new VeilError('NOT_FOUND', `${values['notice-file']}: no such file.`);
  });
  return withVeil(io, async (v) => {
    const r = await v.consents.give(cliActor(), {
      purpose: values.purpose!,
      noticeText,
      noticeVersion: values['notice-version']!,
      method: values.method as 'paper',
      collector: values.collector!,
      ...(values.subject ? { subjectId: values.subject } : {}),
      ...(values.email ? { contactEmail: values.email } : {}),
    });
    if (values['receipt-out']) await writeFile(values['receipt-out'], JSON.stringify(r.receipt, null, 2) + '\n');
    out(
      io,
      values.json,
      `consent ${r.consent.id} recorded for subject ${r.consent.subjectId}${values['receipt-out'] ? `; receipt written to ${values['receipt-out']}` : ''}`,
      r,
    );
    return 0;
  });
}

export async function subjectCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommand(
    rest,
    {
      json: { type: 'boolean' },
      purpose: { type: 'string' },
      consent: { type: 'string' },
      subject: { type: 'string' },
      'source-ref': { type: 'string' },
    },
    usageOf('subject', 'enroll'),
  );
  if (!sub) return (io.err(helpFor('subject')!), 2);
  if (sub !== 'enroll') throw new UsageError(`unknown command 'subject ${sub}'\n${helpFor('subject')}`);
  if (!values.purpose || !positionals.length) throw new UsageError(usageOf('subject', 'enroll'));
  const images = await Promise.all(positionals.map(readImage));
  return withVeil(io, async (v) => {
    const r = await v.gallery.enroll(cliActor(), {
      purpose: values.purpose!,
      images,
      ...(values.consent ? { consentId: values.consent } : {}),
      ...(values.subject ? { subjectId: values.subject } : {}),
      ...(values['source-ref'] ? { sourceReference: values['source-ref'] } : {}),
    });
    const dup = r.possibleDuplicates.length
      ? `\nwarning: the face also matches ${r.possibleDuplicates.map((d) => `${d.subjectId} (${d.similarity})`).join(', ')}`
      : '';
    out(io, values.json, `enrolled subject ${r.subjectId}: ${r.templates.length} template(s)${dup}`, r);
    return 0;
  });
}

import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseCommand } from './args.js';
import { cliActor, openLocalServices, type LocalServices } from './context.js';
import { Progress, UsageError, type Io } from './output.js';
import { VeilError } from '../errors.js';
import type { IngestOutcome } from '../gallery/ingest.service.js';

const HELP = `veil purpose create --key K --name N --description D --basis B [options]
  --art9 C --legal-ref TEXT --retention P1Y --recipient R (repeatable) --requires-case-ref --keep-images
veil purpose list
veil consent give --purpose P --notice-file F --notice-version V --method portal|api|paper --collector C
                  [--subject S] [--email E] [--receipt-out FILE]
veil consent withdraw <consent-id>
veil subject enroll --purpose P (--consent C | --subject S | --source-ref R) <image...>
veil identify --purpose P <image> (--case-ref R | --justification J) [--k N] [--threshold T]
veil verify --purpose P <image> (--subject S | --against IMAGE) (--case-ref R | --justification J)
veil ingest --purpose P <folder-or-files...>     resumable: already-ingested photos are skipped
veil redact <media-id> --out FILE.jpg
Every command takes --json.`;

async function withVeil<T>(io: Io, fn: (v: LocalServices) => Promise<T>): Promise<T> {
  const v = await openLocalServices(io);
  try {
    return await fn(v);
  } finally {
    await v.close();
  }
}

function out(io: Io, json: boolean | undefined, human: string, doc: unknown): void {
  io.out(json ? JSON.stringify(doc) + '\n' : human + '\n');
}

async function readImage(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new VeilError('NOT_FOUND', `${path}: no such file.`);
  }
}

export async function purposeCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
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
    HELP,
  );
  if (values.help || !sub) return (io.out(HELP + '\n'), sub ? 0 : 2);
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
  if (sub !== 'create') throw new UsageError(`unknown command 'purpose ${sub}'\n${HELP}`);
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
    HELP,
  );
  if (values.help || !sub) return (io.out(HELP + '\n'), sub ? 0 : 2);
  if (sub === 'withdraw') {
    if (positionals.length !== 1) throw new UsageError('usage: veil consent withdraw <consent-id>');
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
  if (sub !== 'give') throw new UsageError(`unknown command 'consent ${sub}'\n${HELP}`);
  if (!values.purpose || !values['notice-file'] || !values['notice-version'] || !values.method || !values.collector)
    throw new UsageError(
      'usage: veil consent give --purpose P --notice-file F --notice-version V --method M --collector C',
    );
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
    HELP,
  );
  if (values.help || !sub) return (io.out(HELP + '\n'), sub ? 0 : 2);
  if (sub !== 'enroll') throw new UsageError(`unknown command 'subject ${sub}'\n${HELP}`);
  if (!values.purpose || !positionals.length)
    throw new UsageError(
      'usage: veil subject enroll --purpose P (--consent C | --subject S | --source-ref R) <image...>',
    );
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

export async function identifyCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      json: { type: 'boolean' },
      purpose: { type: 'string' },
      'case-ref': { type: 'string' },
      justification: { type: 'string' },
      k: { type: 'string' },
      threshold: { type: 'string' },
    },
    HELP,
  );
  if (values.help) return (io.out(HELP + '\n'), 0);
  if (!values.purpose || positionals.length !== 1)
    throw new UsageError('usage: veil identify --purpose P <image> (--case-ref R | --justification J)');
  const image = await readImage(positionals[0]!);
  return withVeil(io, async (v) => {
    const r = await v.search.identify(cliActor(), {
      purpose: values.purpose!,
      image,
      ...(values['case-ref'] ? { caseRef: values['case-ref'] } : {}),
      ...(values.justification ? { justification: values.justification } : {}),
      ...(values.k ? { k: Number(values.k) } : {}),
      ...(values.threshold ? { threshold: Number(values.threshold) } : {}),
    });
    const human = r.candidates.length
      ? r.candidates
          .map(
            (c) =>
              `#${c.rank} ${c.subjectId} similarity ${c.similarity} (estimated false-match rate ${c.estimatedFalseMatchRate})`,
          )
          .join('\n')
      : `no match above threshold ${r.threshold}`;
    out(io, values.json, human, r);
    return 0;
  });
}

export async function verifyCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      json: { type: 'boolean' },
      purpose: { type: 'string' },
      subject: { type: 'string' },
      against: { type: 'string' },
      'case-ref': { type: 'string' },
      justification: { type: 'string' },
    },
    HELP,
  );
  if (values.help) return (io.out(HELP + '\n'), 0);
  if (!values.purpose || positionals.length !== 1 || !values.subject === !values.against)
    throw new UsageError(
      'usage: veil verify --purpose P <image> (--subject S | --against IMAGE) (--case-ref R | --justification J)',
    );
  const image = await readImage(positionals[0]!);
  const second = values.against ? await readImage(values.against) : undefined;
  return withVeil(io, async (v) => {
    const r = await v.search.verify(cliActor(), {
      purpose: values.purpose!,
      image,
      ...(values.subject ? { subjectId: values.subject } : {}),
      ...(second ? { secondImage: second } : {}),
      ...(values['case-ref'] ? { caseRef: values['case-ref'] } : {}),
      ...(values.justification ? { justification: values.justification } : {}),
    });
    out(io, values.json, `${r.match ? 'MATCH' : 'NO MATCH'}: similarity ${r.similarity} (threshold ${r.threshold})`, r);
    return 0;
  });
}

async function listPhotos(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => null);
    if (!s) throw new VeilError('NOT_FOUND', `${p}: no such file or folder.`);
    if (s.isDirectory()) {
      for (const e of (await readdir(p, { recursive: true })).sort())
        if (/\.(jpe?g|png|webp|tiff?|avif|gif)$/i.test(e)) out.push(join(p, e));
    } else out.push(p);
  }
  return out;
}

export async function ingestCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { json: { type: 'boolean' }, jsonl: { type: 'boolean' }, purpose: { type: 'string' } },
    HELP,
  );
  if (values.help) return (io.out(HELP + '\n'), 0);
  if (!values.purpose || !positionals.length)
    throw new UsageError('usage: veil ingest --purpose P <folder-or-files...>');
  const files = await listPhotos(positionals);
  return withVeil(io, async (v) => {
    const progress = new Progress(io, files.length, 'ingesting');
    const outcomes: IngestOutcome[] = [];
    for (const f of files) {
      const o = await v.media.ingest(cliActor(), values.purpose!, {
        name: relative(process.cwd(), f),
        bytes: await readFile(f),
      });
      outcomes.push(o);
      if (values.jsonl) io.out(JSON.stringify(o) + '\n');
      progress.tick();
    }
    const count = (s: string) => outcomes.filter((o) => o.status === s).length;
    const sightings = outcomes.reduce((a, o) => a + (o.status === 'ingested' ? o.sightings : 0), 0);
    const summary = {
      files: files.length,
      ingested: count('ingested'),
      skipped: count('skipped'),
      failed: count('failed'),
      sightings,
    };
    if (values.json) io.out(JSON.stringify({ ...summary, outcomes }) + '\n');
    else if (!values.jsonl)
      io.out(
        `${summary.ingested} ingested, ${summary.skipped} already ingested, ${summary.failed} failed; ${sightings} sighting(s) of enrolled people\n`,
      );
    for (const o of outcomes) if (o.status === 'failed') io.err(`  ${o.file}: ${o.code}: ${o.message}\n`);
    return summary.failed ? 1 : 0;
  });
}

export async function redactCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' }, out: { type: 'string' } }, HELP);
  if (values.help) return (io.out(HELP + '\n'), 0);
  if (positionals.length !== 1 || !values.out) throw new UsageError('usage: veil redact <media-id> --out FILE.jpg');
  return withVeil(io, async (v) => {
    const r = await v.media.redact(cliActor(), positionals[0]!);
    await writeFile(values.out!, r.jpeg);
    out(io, values.json, `${values.out}: ${r.blurred} face(s) blurred, ${r.shown} consenting face(s) shown`, {
      out: values.out,
      blurred: r.blurred,
      shown: r.shown,
    });
    return 0;
  });
}

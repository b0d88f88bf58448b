import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseCommand } from './args.js';
import { cliActor } from './context.js';
import { Progress, UsageError, type Io } from './output.js';
import { VeilError } from '../errors.js';
import type { IngestOutcome } from '../gallery/ingest.service.js';

import { GALLERY_HELP as HELP, out, readImage, withVeil } from './gallery.shared.js';
import { identifyLines } from './identify.format.js';

export async function identifyCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    {
      json: { type: 'boolean' },
      purpose: { type: 'string' },
      'case-ref': { type: 'string' },
      justification: { type: 'string' },
      k: { type: 'string' },
      'max-faces': { type: 'string' },
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
      ...(values['max-faces'] ? { maxFaces: Number(values['max-faces']) } : {}),
      ...(values.threshold ? { threshold: Number(values.threshold) } : {}),
    });
    const human = identifyLines(r);
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

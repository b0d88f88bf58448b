import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseCommand } from './args.js';
import { cliActor } from './context.js';
import { Progress, UsageError, type Io } from './output.js';
import { usageOf } from './help.js';
import { VeilError } from '../errors.js';
import type { IngestOutcome } from '../gallery/ingest.service.js';
import { out, withVeil } from './gallery.shared.js';

async function listPhotos(paths: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const p of paths) {
    const s = await stat(p).catch(() => null);
    if (!s) throw new VeilError('NOT_FOUND', `${p}: no such file or folder.`);
    if (s.isDirectory()) {
      for (const e of (await readdir(p, { recursive: true })).sort())
        if (/\.(jpe?g|png|webp|tiff?|avif|gif)$/i.test(e)) found.push(join(p, e));
    } else found.push(p);
  }
  return found;
}

/** One photo's line: its media id (what `veil redact` takes), faces and sightings, or why it failed. */
function outcomeLine(o: IngestOutcome): string {
  switch (o.status) {
    case 'ingested':
      return `${o.mediaId}  ${o.file}  ${o.faces} face(s), ${o.sightings} sighting(s)`;
    case 'skipped':
      return `${o.mediaId}  ${o.file}  already ingested`;
    default:
      return `failed  ${o.file}  ${o.code}: ${o.message}`;
  }
}

/** `veil ingest --purpose P <folder-or-files...>`: resumable, one line per photo. */
export async function ingestCommand(argv: string[], io: Io): Promise<number> {
  const usage = usageOf('ingest');
  const { values, positionals } = parseCommand(
    argv,
    { json: { type: 'boolean' }, jsonl: { type: 'boolean' }, purpose: { type: 'string' } },
    usage,
  );
  if (!values.purpose || !positionals.length) throw new UsageError(usage);
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
      else if (!values.json) io.out(outcomeLine(o) + '\n');
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
    return summary.failed ? 1 : 0;
  });
}

/** `veil media list`: ingested photos of the purposes the caller may see. */
export async function mediaCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const usage = usageOf('media', 'list');
  const { values, positionals } = parseCommand(
    rest,
    { json: { type: 'boolean' }, purpose: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
    usage,
  );
  if (sub !== 'list' || positionals.length) throw new UsageError(usage);
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  return withVeil(io, async (v) => {
    const page = await v.media.list(cliActor(), { purpose: values.purpose, cursor: values.cursor, limit });
    const lines = page.items.map(
      (m) => `${m.id}\t${m.purpose}\t${m.filename}\t${m.faces} face(s), ${m.sightings} sighting(s)\t${m.ingestedAt}`,
    );
    if (page.nextCursor) lines.push(`more: veil media list --cursor ${page.nextCursor}`);
    out(io, values.json, lines.join('\n') || '(no media)', page);
    return 0;
  });
}

/** `veil redact <media-id> --out FILE.jpg`. */
export async function redactCommand(argv: string[], io: Io): Promise<number> {
  const usage = usageOf('redact');
  const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' }, out: { type: 'string' } }, usage);
  if (positionals.length !== 1 || !values.out) throw new UsageError(usage);
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

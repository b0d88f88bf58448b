import { parseCommand } from './args.js';
import { cliActor } from './context.js';
import { UsageError, type Io } from './output.js';
import { usageOf } from './help.js';
import { out, readImage, withVeil } from './gallery.shared.js';
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
    usageOf('identify'),
  );
  if (!values.purpose || positionals.length !== 1) throw new UsageError(usageOf('identify'));
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
    usageOf('verify'),
  );
  if (!values.purpose || positionals.length !== 1 || !values.subject === !values.against)
    throw new UsageError(usageOf('verify'));
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

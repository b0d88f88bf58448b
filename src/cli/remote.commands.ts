import { identifyLines, matchLine } from './identify.format.js';
import { readFile } from 'node:fs/promises';
import { parseCommand } from './args.js';
import { UsageError, type Io } from './output.js';
import { VeilClient, VeilApiError } from '../client/client.js';
import { VeilError, ERROR_CODES, type ErrorCode } from '../errors.js';

const SUPPORTED =
  'purpose list|create, subject enroll, identify, verify, matches list|confirm|reject, rights list|show|submit, audit head';

/** The CLI against a running server (`veil --url URL --key TOKEN ...`), through the typed client. */
export async function remoteCommand(url: string, token: string | undefined, argv: string[], io: Io): Promise<number> {
  const c = new VeilClient(url, token);
  const [cmd, sub, ...rest] = argv;
  const args = cmd === 'identify' || cmd === 'verify' ? [sub ?? '', ...rest].filter(Boolean) : rest;
  const { values, positionals } = parseCommand(
    args,
    {
      json: { type: 'boolean' },
      purpose: { type: 'string' },
      'case-ref': { type: 'string' },
      justification: { type: 'string' },
      subject: { type: 'string' },
      against: { type: 'string' },
      consent: { type: 'string' },
      'source-ref': { type: 'string' },
      key: { type: 'string' },
      name: { type: 'string' },
      description: { type: 'string' },
      basis: { type: 'string' },
      retention: { type: 'string' },
      overdue: { type: 'boolean' },
      kind: { type: 'string' },
      email: { type: 'string' },
      k: { type: 'string' },
      face: { type: 'string' },
    },
    `remote mode supports: ${SUPPORTED}`,
  );
  const print = (human: string, doc: unknown) => io.out(values.json ? JSON.stringify(doc) + '\n' : human + '\n');
  const read = (f: string) =>
    readFile(f).catch(() => {
      throw new VeilError('NOT_FOUND', `${f}: no such file.`);
    });
  const acc = {
    ...(values['case-ref'] ? { caseRef: values['case-ref'] } : {}),
    ...(values.justification ? { justification: values.justification } : {}),
  };
  try {
    if (cmd === 'identify') {
      if (!values.purpose || positionals.length !== 1)
        throw new UsageError('usage: veil --url U identify --purpose P <image> (--case-ref R | --justification J)');
      const r = await c.identify({
        purpose: values.purpose,
        image: await read(positionals[0]!),
        ...acc,
        ...(values.k ? { k: Number(values.k) } : {}),
      });
      print(identifyLines(r), r);
    } else if (cmd === 'verify') {
      if (!values.purpose || positionals.length !== 1)
        throw new UsageError('usage: veil --url U verify --purpose P <image> (--subject S | --against IMAGE)');
      const r = await c.verify({
        purpose: values.purpose,
        image: await read(positionals[0]!),
        ...(values.subject ? { subjectId: values.subject } : {}),
        ...(values.against ? { secondImage: await read(values.against) } : {}),
        ...acc,
      });
      print(`${r.match ? 'MATCH' : 'NO MATCH'}: similarity ${r.similarity} (threshold ${r.threshold})`, r);
    } else if (cmd === 'matches' && sub === 'list' && positionals.length === 1) {
      const r = await c.confirmations(positionals[0]!);
      print(
        [
          `search ${r.searchId} (${r.purpose}, ${r.at}): ${r.matches.length} match(es)`,
          ...r.matches.map(matchLine),
        ].join('\n'),
        r,
      );
    } else if (cmd === 'matches' && (sub === 'confirm' || sub === 'reject')) {
      const face = Number(values.face);
      if (positionals.length !== 1 || !values.subject || !Number.isInteger(face) || face < 1)
        throw new UsageError(`usage: veil --url U matches ${sub} <search-id> --face N --subject S`);
      const r = await c.decideMatch(sub, { searchId: positionals[0]!, face: face - 1, subjectId: values.subject });
      print(matchLine(r), r);
    } else if (cmd === 'purpose' && sub === 'list') {
      const r = await c.listPurposes();
      print(
        r.items
          .map((p) => `${p.key}\t${p.lawfulBasis}\t${p.retention}\t${p.status}\ttemplates ${p.templates ?? 0}`)
          .join('\n') || '(no purposes)',
        r.items,
      );
    } else if (cmd === 'purpose' && sub === 'create') {
      const p = await c.createPurpose({
        key: values.key!,
        name: values.name!,
        description: values.description!,
        lawfulBasis: values.basis as 'consent',
        ...(values.retention ? { retention: values.retention } : {}),
      });
      print(`created purpose ${p.key} (${p.id})`, p);
    } else if (cmd === 'subject' && sub === 'enroll') {
      if (!values.purpose || !positionals.length)
        throw new UsageError(
          'usage: veil --url U subject enroll --purpose P (--consent C | --source-ref R) <image...>',
        );
      const r = await c.enroll({
        purpose: values.purpose,
        images: await Promise.all(positionals.map(read)),
        ...(values.consent ? { consentId: values.consent } : {}),
        ...(values.subject ? { subjectId: values.subject } : {}),
        ...(values['source-ref'] ? { sourceReference: values['source-ref'] } : {}),
      });
      print(`enrolled subject ${r.subjectId}: ${r.templates.length} template(s)`, r);
    } else if (cmd === 'rights' && sub === 'list') {
      const r = await c.listRequests({ ...(values.overdue ? { overdue: true } : {}) });
      print(
        [
          ...r.items.map(
            (x) =>
              `${x.id}\t${x.kind}\t${x.state}\tdue ${(x.extendedDueAt ?? x.dueAt).slice(0, 10)}${x.overdue ? ' OVERDUE' : ''}`,
          ),
          `${r.open} open, ${r.overdue} overdue`,
        ].join('\n'),
        r,
      );
    } else if (cmd === 'rights' && sub === 'show') {
      const r = await c.getRequest(positionals[0] ?? '');
      print(`${r.id}\t${r.kind}\t${r.state}\tdue ${(r.extendedDueAt ?? r.dueAt).slice(0, 10)}`, r);
    } else if (cmd === 'rights' && sub === 'submit') {
      const r = await c.submitRequest({ kind: values.kind as 'access', email: values.email! });
      print(`request ${r.requestId} received; due ${r.dueAt.slice(0, 10)}`, r);
    } else if (cmd === 'audit' && sub === 'head') {
      const h = await c.auditHead();
      print(`size ${h.size}, root ${h.rootHash}, key ${h.keyId}`, h);
    } else
      throw new UsageError(
        `'${argv.slice(0, 2).join(' ')}' is not available against a server; remote mode supports: ${SUPPORTED}`,
      );
    return 0;
  } catch (e) {
    if (e instanceof VeilApiError) {
      throw new VeilError(
        (ERROR_CODES as readonly string[]).includes(e.code) ? (e.code as ErrorCode) : 'INTERNAL',
        e.message,
      );
    }
    throw e;
  }
}

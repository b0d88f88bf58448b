import { createReadStream, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { VeilError } from '../errors.js';
import { verifyExport } from '../audit/verify.js';
import { parseCommand } from './args.js';
import { cliActor, openLocalServices } from './context.js';
import { UsageError, type Io } from './output.js';
import { helpFor, usageOf } from './help.js';

function intArg(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${name} must be a non-negative integer`);
  return n;
}

export async function auditCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case undefined:
      io.err(helpFor('audit')!);
      return 2;
    case 'verify':
      return verify(rest, io);
    case 'pubkey':
    case 'head':
    case 'prove':
    case 'consistency':
    case 'export':
    case 'rotate-key':
      return withLocal(sub, rest, io);
    default:
      throw new UsageError(`unknown command 'audit ${sub}'\n${helpFor('audit')}`);
  }
}

async function withLocal(sub: string, argv: string[], io: Io): Promise<number> {
  const usage = usageOf('audit', sub);
  const { values, positionals } = parseCommand(
    argv,
    { json: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
    usage,
  );
  if (sub === 'export' && !values.out) throw new UsageError(usage);
  const v = await openLocalServices(io);
  const actor = cliActor();
  const print = (human: string, json: unknown) => io.out(values.json ? JSON.stringify(json) + '\n' : human + '\n');
  try {
    switch (sub) {
      case 'pubkey': {
        const k = v.audit.publicKey();
        if (values.out) {
          writeFileSync(values.out, k.publicKey.trim() + '\n');
          print(`public key ${k.keyId} written to ${values.out}`, { ...k, out: values.out });
        } else print(`key id ${k.keyId}\n${k.publicKey.trim()}`, k);
        return 0;
      }
      case 'head': {
        const h = await v.audit.signNow(actor);
        print(`signed tree head: size ${h.size}, root ${h.rootHash}, ${h.timestamp}, key ${h.keyId}`, h);
        return 0;
      }
      case 'prove': {
        const seq = intArg(positionals[0], '<seq>');
        if (seq === undefined) throw new UsageError(usage);
        const p = await v.audit.proof(actor, seq);
        print(
          `entry ${p.seq} (${p.entry.action} at ${p.entry.time}) is leaf ${p.leafIndex} of the signed tree of size ${p.treeSize}\nleaf hash ${p.leafHash}\nroot ${p.head.rootHash}\nproof:\n${p.proof.map((x) => '  ' + x).join('\n')}`,
          p,
        );
        return 0;
      }
      case 'consistency': {
        const m = intArg(positionals[0], '<m>');
        const n = intArg(positionals[1], '<n>');
        if (!m || !n || m > n) throw new UsageError(`${usage} (0 < m <= n)`);
        const proof = await v.audit.consistency(actor, m, n);
        print(proof.join('\n'), { from: m, to: n, proof });
        return 0;
      }
      case 'export': {
        const out = createWriteStream(values.out!, { mode: 0o600 });
        await once(out, 'open');
        const n = await v.audit.exportEach(
          actor,
          intArg(values.from, '--from') ?? 1,
          intArg(values.to, '--to'),
          async (line) => {
            if (!out.write(line + '\n')) await once(out, 'drain');
          },
        );
        out.end();
        await once(out, 'finish');
        print(`exported ${n} entries to ${values.out}`, { entries: n, out: values.out });
        return 0;
      }
      case 'rotate-key': {
        const r = await v.audit.rotateKey(actor);
        print(`rotated: ${r.oldKeyId} -> ${r.newKeyId}; both signed the head of size ${r.size}`, r);
        return 0;
      }
    }
    return 0;
  } finally {
    await v.close();
  }
}

async function verify(argv: string[], io: Io): Promise<number> {
  const usage = usageOf('audit', 'verify');
  const { values, positionals } = parseCommand(
    argv,
    { json: { type: 'boolean' }, pubkey: { type: 'string', multiple: true } },
    usage,
  );
  if (positionals.length !== 1) throw new UsageError(usage);
  const keys = (values.pubkey ?? []).map((p) => readFileSync(p, 'utf8'));
  const lines: string[] = [];
  try {
    const rl = createInterface({ input: createReadStream(positionals[0]!), crlfDelay: Infinity });
    for await (const l of rl) lines.push(l);
  } catch {
    throw new VeilError('NOT_FOUND', `${positionals[0]}: cannot read the export.`);
  }
  const r = verifyExport(lines, { trustedPublicKeys: keys });
  if (values.json) io.out(JSON.stringify(r) + '\n');
  else if (r.ok) {
    io.out(
      `OK: ${r.entries} entries (${r.from}..${r.to}), ${r.headsVerified} signed heads verified; keys ${r.trustedKeys.join(', ')}${r.trust === 'export' ? " (trusted from the export itself: compare with the operator's published key, or pass --pubkey)" : ' (pinned)'}\n`,
    );
  } else {
    const f = r.failure!;
    const where = 'seq' in f ? `entry ${f.seq}` : 'headSize' in f ? `head of size ${f.headSize}` : `line ${f.line}`;
    io.out(`FAILED at ${where}: ${f.code}: ${f.message}\n`);
  }
  return r.ok ? 0 : 1;
}

import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { VeilError } from '../errors.js';
import { verifyExport } from '../audit/verify.js';
import { prepareRotation } from '../audit/signing-key.js';
import { parseCommand } from './args.js';
import { openLocal } from './context.js';
import { UsageError, type Io } from './output.js';

const HELP = `veil audit <command>

  pubkey [--json]                         the audit signing public key and its id
  head [--json]                           sign a tree head over the whole log now
  prove <seq> [--json]                    inclusion proof of entry <seq> against the latest signed head
  consistency <m> <n> [--json]            consistency proof between tree sizes m < n
  export [--from N] [--to N] --out FILE   entries + signed heads + public keys as JSON lines
  verify <export> [--pubkey FILE] [--json]
                                          recompute everything; OK or the first bad entry or head
  rotate-key [--json]                     new signing key, cross-signed with the old one
`;

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
      io.err(HELP);
      return 2;
    case '--help':
    case '-h':
      io.out(HELP);
      return 0;
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
      throw new UsageError(`unknown command 'audit ${sub}'\n${HELP}`);
  }
}

async function withLocal(sub: string, argv: string[], io: Io): Promise<number> {
  const usage = `usage: veil audit ${sub} ...\n${HELP}`;
  const { values, positionals } = parseCommand(
    argv,
    { json: { type: 'boolean' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
    usage,
  );
  if (values.help) return (io.out(HELP), 0);
  const ctx = await openLocal(io);
  const { store, audit } = ctx;
  const print = (human: string, json: unknown) => io.out(values.json ? JSON.stringify(json) + '\n' : human + '\n');
  try {
    switch (sub) {
      case 'pubkey':
        print(`key id ${audit.keyId}\n${audit.publicKeyPem.trim()}`, {
          keyId: audit.keyId,
          publicKey: audit.publicKeyPem,
        });
        return 0;
      case 'head': {
        const h = await store.transaction((tx) => audit.signHead(tx));
        print(`signed tree head: size ${h.size}, root ${h.rootHash}, ${h.timestamp}, key ${h.keyId}`, h);
        return 0;
      }
      case 'prove': {
        const seq = intArg(positionals[0], '<seq>');
        if (seq === undefined) throw new UsageError('usage: veil audit prove <seq>');
        const p = await store.transaction((tx) => audit.inclusionProof(tx, seq));
        print(
          `entry ${p.seq} (${p.entry.action} at ${p.entry.time}) is leaf ${p.leafIndex} of the signed tree of size ${p.treeSize}\nleaf hash ${p.leafHash}\nroot ${p.head.rootHash}\nproof:\n${p.proof.map((x) => '  ' + x).join('\n')}`,
          p,
        );
        return 0;
      }
      case 'consistency': {
        const m = intArg(positionals[0], '<m>');
        const n = intArg(positionals[1], '<n>');
        if (!m || !n || m > n) throw new UsageError('usage: veil audit consistency <m> <n> with 0 < m <= n');
        const proof = await audit.consistencyProof(store.db, m, n);
        print(proof.join('\n'), { from: m, to: n, proof });
        return 0;
      }
      case 'export': {
        if (!values.out) throw new UsageError('usage: veil audit export [--from N] [--to N] --out FILE');
        const out = createWriteStream(values.out, { mode: 0o600 });
        let n = 0;
        await store.transaction(async (tx) => {
          for await (const line of audit.exportLines(
            tx,
            intArg(values.from, '--from') ?? 1,
            intArg(values.to, '--to'),
          )) {
            if (!out.write(JSON.stringify(line) + '\n')) await once(out, 'drain');
            if ((line as { type: string }).type === 'entry') n++;
          }
          await audit.append(tx, {
            actor: { kind: 'cli', id: 'local' },
            action: 'audit.exported',
            detail: { entries: n },
          });
        });
        out.end();
        await once(out, 'finish');
        print(`exported ${n} entries to ${values.out}`, { entries: n, out: values.out });
        return 0;
      }
      case 'rotate-key': {
        const { next, commit } = prepareRotation(ctx.config.dataDir);
        if (process.env['VEIL_AUDIT_SIGNING_KEY'])
          throw new VeilError('INVALID_INPUT', 'The signing key comes from VEIL_AUDIT_SIGNING_KEY; rotate it there.');
        const heads = await store.transaction(async (tx) => {
          const r = await audit.crossSign(tx, next);
          await audit.append(tx, {
            actor: { kind: 'cli', id: 'local' },
            action: 'audit.key.rotated',
            detail: { oldKeyId: r.old.keyId, newKeyId: next.keyId, size: r.old.size },
          });
          return r;
        });
        commit();
        print(`rotated: ${heads.old.keyId} -> ${next.keyId}; both signed the head of size ${heads.old.size}`, {
          oldKeyId: heads.old.keyId,
          newKeyId: next.keyId,
          crossSigned: heads,
        });
        return 0;
      }
    }
    return 0;
  } finally {
    await ctx.close();
  }
}

async function verify(argv: string[], io: Io): Promise<number> {
  const usage = 'usage: veil audit verify <export> [--pubkey FILE] [--json]';
  const { values, positionals } = parseCommand(
    argv,
    { json: { type: 'boolean' }, pubkey: { type: 'string', multiple: true } },
    usage,
  );
  if (values.help) return (io.out(usage + '\n'), 0);
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

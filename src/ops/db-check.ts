import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import pg from 'pg';
import type { Store } from '../store/store.js';
import type { Settings } from '../config/settings.js';
import { migrationStatus } from '../store/migrator.js';
import { checkMasterKey } from '../privacy/keystore-check.js';
import { rootHash } from '../audit/merkle.js';
import { verifyHeadSignature } from '../audit/tree-head.js';
import { auditRepository } from '../audit/audit.repository.js';
import { dbCheckRepository as repo } from './db-check.repository.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  readonly name: string;
  readonly status: CheckStatus;
  readonly detail: string;
}

export interface CheckDeps {
  readonly store: Store;
  readonly dataDir: string;
  readonly settings: Pick<Settings, 'masterKey' | 'auditSigningKey'>;
  /** The PostgreSQL URL, for the LISTEN/NOTIFY round trip. */
  readonly databaseUrl?: string | undefined;
  /** Delete files no row refers to (left by a process killed between writing and committing). */
  readonly repair?: boolean;
  /** Orphans younger than this may belong to a transaction still in flight in another process. */
  readonly orphanGraceMs?: number;
}

/**
 * `veil db check`: what an operator runs after a deploy, a restore or a failover. Read-only unless
 * asked to repair; never creates keys; reports counts and ids, never personal or biometric data.
 */
export async function checkDatabase(deps: CheckDeps): Promise<Check[]> {
  const checks: Check[] = [];
  const run = async (name: string, fn: () => Promise<Omit<Check, 'name'>>) => {
    try {
      checks.push({ name, ...(await fn()) });
    } catch (e) {
      checks.push({ name, status: 'fail', detail: (e as Error).message });
    }
  };
  const db = deps.store.db;
  await run('connection', async () => {
    const t0 = performance.now();
    const v = await repo.serverVersion(db, deps.store.engine);
    return { status: 'ok', detail: `${deps.store.engine} ${v}, round trip ${(performance.now() - t0).toFixed(1)} ms` };
  });
  if (checks[0]!.status === 'fail') return checks;
  await run('schema', async () => {
    const s = await migrationStatus(db);
    const at = s.applied.length ? Math.max(...s.applied.map((a) => a.version)) : 0;
    if (s.pending.length)
      return {
        status: 'fail',
        detail: `at version ${at}, ${s.pending.length} pending (${s.pending.map((p) => p.version).join(', ')}): run 'veil migrate'`,
      };
    if (s.unknown.length)
      return { status: 'warn', detail: `versions ${s.unknown.join(', ')} come from a newer Veil than this one` };
    return { status: 'ok', detail: `version ${at} of ${s.latest}` };
  });
  if (checks.at(-1)!.status === 'fail') return checks;
  await run('audit log', async () => {
    const size = await auditRepository.size(db);
    const entries = await repo.auditEntries(db);
    if (entries !== size)
      return { status: 'fail', detail: `${entries} entries but the last seq is ${size}: entries are missing` };
    const head = await auditRepository.latestHead(db);
    if (!head) return { status: size ? 'warn' : 'ok', detail: `${size} entries, no signed head yet` };
    const keys = await auditRepository.keys(db);
    const key = keys.find((k) => k.key_id === head.keyId);
    if (!key || !verifyHeadSignature(head, key.public_key))
      return { status: 'fail', detail: `the signed head at size ${head.size} does not verify` };
    const root = (await rootHash(head.size, (ids) => auditRepository.nodes(db, ids))).toString('hex');
    if (root !== head.rootHash)
      return { status: 'fail', detail: `the stored tree no longer matches the signed head at size ${head.size}` };
    return {
      status: 'ok',
      detail: `${size} entries; latest signed head at size ${head.size} (${head.timestamp}) verifies`,
    };
  });
  await run('audit signing keys', async () => {
    const active = (await auditRepository.keys(db)).filter((k) => !k.retired_at);
    // Every process must sign with the one key: several active keys mean a process generated its own.
    if (active.length > 1)
      return {
        status: 'warn',
        detail: `${active.length} active signing keys (${active.map((k) => k.key_id).join(', ')}): give every process the same VEIL_AUDIT_SIGNING_KEY, then rotate`,
      };
    const configured = deps.settings.auditSigningKey || existsSync(join(deps.dataDir, 'audit-signing-key.pem'));
    if (!configured && active.length)
      return {
        status: 'fail',
        detail: `no signing key in VEIL_AUDIT_SIGNING_KEY or ${deps.dataDir}: this process would start a second one`,
      };
    return { status: 'ok', detail: active.length ? `one active key ${active[0]!.key_id}` : 'no key registered yet' };
  });
  await run('master key', () =>
    checkMasterKey({ store: deps.store, dataDir: deps.dataDir, masterKey: deps.settings.masterKey }),
  );
  await run('erased subjects', async () => {
    const { erased: n, left } = await repo.leftByErased(db);
    const total = Object.values(left).reduce((a, b) => a + b, 0);
    if (total)
      return {
        status: 'fail',
        detail: `erased subjects still have ${Object.entries(left)
          .filter(([, v]) => v)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}`,
      };
    return { status: 'ok', detail: `${n} erased subjects, nothing of theirs left` };
  });
  await run('files', () => checkFiles(deps));
  await run('index change feed', async () => {
    const r = await repo.changeFeed(db);
    const feed = `${r.n} changes kept (seq ${r.lo}..${r.hi})`;
    if (deps.store.engine !== 'postgres' || !deps.databaseUrl)
      return { status: 'ok', detail: `${feed}; followers poll every 250 ms` };
    const ms = await notifyRoundTrip(deps.databaseUrl);
    return { status: 'ok', detail: `${feed}; LISTEN/NOTIFY round trip ${ms.toFixed(1)} ms` };
  });
  return checks;
}

/** Sealed files on disk against the rows that refer to them, both ways. */
async function checkFiles(deps: CheckDeps): Promise<Omit<Check, 'name'>> {
  const referenced = await repo.referencedFiles(deps.store.db);
  const onDisk = ['media', 'images', 'exports']
    .flatMap((d) => walk(join(deps.dataDir, d)))
    .map((abs) => ({ abs, rel: relative(deps.dataDir, abs) }));
  const grace = deps.orphanGraceMs ?? 10 * 60_000;
  const orphans = onDisk.filter((f) => !referenced.has(f.rel) && Date.now() - statSync(f.abs).mtimeMs > grace);
  const present = new Set(onDisk.map((f) => f.rel));
  const missing = [...referenced].filter((p) => !present.has(p));
  if (deps.repair) for (const o of orphans) rmSync(o.abs, { force: true });
  if (missing.length)
    return {
      status: 'fail',
      detail: `${missing.length} stored files are missing from ${deps.dataDir} (is the data directory shared by every process?)`,
    };
  if (orphans.length && !deps.repair)
    return {
      status: 'warn',
      detail: `${orphans.length} files no row refers to (a process stopped mid-write); 'veil db check --repair' deletes them`,
    };
  return {
    status: 'ok',
    detail: `${referenced.size} files, all present${orphans.length ? `; deleted ${orphans.length} orphans` : ', no orphans'}`,
  };
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

async function notifyRoundTrip(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const channel = `veil_check_${process.pid}`;
    await c.query(`LISTEN ${channel}`);
    const t0 = performance.now();
    const got = new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(
            new Error(
              'no NOTIFY received within 2 s: change propagation between processes would fall back to the 5 s poll',
            ),
          ),
        2000,
      );
      c.on('notification', () => (clearTimeout(t), resolve()));
    });
    await c.query(`NOTIFY ${channel}`);
    await got;
    return performance.now() - t0;
  } finally {
    await c.end();
  }
}

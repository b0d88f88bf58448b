import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { migrationStatus } from '../store/migrator.js';
import type { AccessPolicy } from '../auth/policy.js';
import { actors, type Actor } from '../auth/actor.js';
import { VeilError } from '../errors.js';
import type { SubjectId } from '../ids.js';
import type { KeyRing } from '../privacy/keyring.js';
import { MasterKey } from '../privacy/keys.js';
import { DerivedReseal, type Probe, type ResealCounts } from '../privacy/derived-reseal.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import type { AuditLog } from '../audit/audit.log.js';
import { keySlotRepository } from '../privacy/key-slot.repository.js';
import type { FaceDataLifecycle } from '../gallery/face-data.lifecycle.js';
import type { SuppressionList } from '../gallery/suppression.js';
import type { ErasureCertificate } from '../rights/certificate.js';
import type { PurposeService } from '../privacy/purpose.service.js';
import { backupRepository } from './backup.repository.js';
import { subjectStateRepository } from '../gallery/subject-state.repository.js';
import { replayJournal, type JournalReplay } from './restore-replay.js';

/** The sealed files a backup carries: everything a restored database refers to. */
export const BACKUP_DIRS = ['images', 'media', 'exports'] as const;

/** What a backup never holds, and why: said in its manifest and by `veil backup`. */
export const NOT_IN_BACKUP = {
  'keys/':
    'the keystore: a backup holding data keys would bring back people erased after it was taken; it stays with the data directory',
  'master.key': 'the master key: kept apart from every copy of the data it protects',
  'audit-signing-key.pem': 'the audit signing key: a secret; the installation keeps its own',
  'outbox/': 'mail waiting to be read: transient, and it holds addresses in clear',
} as const;

export interface BackupManifest {
  readonly format: 'veil.backup.v1';
  readonly createdAt: string;
  readonly engine: 'sqlite';
  readonly schemaVersion: number;
  readonly database: 'veil.db';
  /** The master key (its public id) whose derived keys seal what the backup holds; absent in older backups. */
  readonly masterKeyId?: string;
  /** The installation's keystore (its id): a backup restores only where its keys are; absent in older backups. */
  readonly keystoreId?: string;
  readonly files: readonly { path: string; bytes: number; sha256: string }[];
  readonly excluded: typeof NOT_IN_BACKUP;
}

export interface ReplayReport {
  /** Subjects the restored database held that the keystore says were erased (or whose key is gone). */
  readonly replayed: readonly SubjectId[];
  readonly certificate: ErasureCertificate | null;
  /** Withdrawals, removals, restrictions and do-not-enroll entries since the backup, applied again (restore-journal.ts). */
  readonly journal: JournalReplay;
  /** What was sealed under the previous master key's derived keys (a backup from before a rotation), sealed again. */
  readonly resealed: { readonly from: string; readonly counts: ResealCounts; readonly unreadable: number } | null;
}

/** Which master key sealed the restored data, as far as the restore knows. */
export interface SealedUnder {
  /** The backup's manifest says (`masterKeyId`); otherwise the data is tried under the installation's key. */
  readonly backupMasterId?: string | undefined;
  /** The master key in use when the backup was taken (`--previous-master-key`): 32 bytes. */
  readonly previousKey?: Buffer | undefined;
}

/**
 * Backups that cannot bring an erased person back. `backup` copies the database and the sealed files,
 * never a key; `replayErasures` (run by `veil restore`, or on its own after a PostgreSQL restore) erases
 * again, through the one face-data lifecycle, every subject the restored database still holds whose
 * key the keystore has destroyed: the keystore's tombstones are the durable record of erasures.
 */
export class BackupService {
  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      purposes: PurposeService;
      clock: Clock;
      policy: AccessPolicy;
      dataDir: string;
      keyring: KeyRing;
      lifecycle: FaceDataLifecycle;
      suppression: SuppressionList;
      master: MasterKey;
      vault: TemplateVault;
    },
  ) {}

  async backup(actor: Actor, outDir: string): Promise<BackupManifest> {
    this.deps.policy.require(actor, 'keys.manage');
    const { store, dataDir } = this.deps;
    if (store.engine !== 'sqlite')
      throw new VeilError(
        'INVALID_STATE',
        "veil backup copies the embedded SQLite store. On PostgreSQL, back the database up with pg_dump and copy images/, media/ and exports/; after a restore, run 'veil restore --replay-only' (docs/deploy.md).",
      );
    if (existsSync(outDir) && readdirSync(outDir).length)
      throw new VeilError('INVALID_INPUT', `${outDir} is not empty: a backup goes into a new directory.`);
    mkdirSync(outDir, { recursive: true, mode: 0o700 });
    const db = join(outDir, 'veil.db');
    closeSync(openSync(db, 'w', 0o600));
    await backupRepository.vacuumInto(store, db);
    chmodSync(db, 0o600);
    for (const d of BACKUP_DIRS) copyTree(join(dataDir, d), join(outDir, d));
    const manifest: BackupManifest = {
      format: 'veil.backup.v1',
      createdAt: this.deps.clock.now().toISOString(),
      engine: 'sqlite',
      schemaVersion: Math.max(0, ...(await migrationStatus(store.db)).applied.map((a) => a.version)),
      database: 'veil.db',
      masterKeyId: this.deps.master.id,
      keystoreId: this.deps.keyring.keystore.header.keystoreId,
      files: listFiles(outDir).map((path) => fileEntry(outDir, path)),
      excluded: NOT_IN_BACKUP,
    };
    writeFileSync(join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
    return manifest;
  }

  /**
   * Subjects the database holds as not erased whose key is a tombstone in the keystore, or whose slot
   * holds no key of theirs, are erased again (actor system:restore in the audit log).
   */
  async replayErasures(actor: Actor, sealed: SealedUnder = {}): Promise<ReplayReport> {
    this.deps.policy.require(actor, 'keys.manage');
    const { store, keyring } = this.deps;
    // First, and before anything else changes: the replay's erasures and do-not-enroll entries, and
    // every enrollment after it, open the restored list under this installation's keys.
    const system = actors.system('restore');
    const resealed = await this.reseal(system, sealed);
    const slots = await keyring.keystore.readAll();
    const gone = new Set(slots.filter((s) => s.state === 'tombstone').map((s) => s.owner));
    const bySlot = new Map(slots.map((s) => [s.slot, s]));
    for (const r of await keySlotRepository.all(store.db)) {
      const s = bySlot.get(r.slot);
      if (!r.destroyed && (s?.state !== 'live' || s.owner !== r.owner)) gone.add(r.owner);
    }
    const ids = [...(await subjectStateRepository.notErased(store.db, [...gone]))] as SubjectId[];
    const certificate = ids.length ? await this.deps.lifecycle.erase(ids, system, null) : null;
    const journal = await replayJournal({ ...this.deps, journal: keyring.journal }, system);
    return { replayed: ids, certificate, journal, resealed };
  }

  /**
   * A backup taken before `veil keys rotate-master` holds data sealed under the old master's derived
   * keys, which the new one cannot derive (the keystore, never in a backup, was rewrapped in place):
   * sealed again under this installation's, given the old key; refused, naming it, without it.
   */
  private async reseal(actor: Actor, sealed: SealedUnder): Promise<ReplayReport['resealed']> {
    const { master } = this.deps;
    const moves = new DerivedReseal(this.deps);
    const given = sealed.previousKey ? MasterKey.fromBytes(sealed.previousKey) : undefined;
    const previous = await previousKeyFor(master, sealed.backupMasterId, given, (k) => moves.probe(k));
    if (!previous) return null;
    const from = sealed.backupMasterId ?? previous.id;
    const r = await moves.run(previous, master);
    await this.deps.store.transaction((tx) =>
      this.deps.audit.append(tx, {
        actor,
        action: 'key.master.resealed',
        detail: { from, to: master.id, ...r.counts, unreadable: r.unreadable },
      }),
    );
    return { from, ...r };
  }
}

/**
 * The key to move the restored data from, null when it is under `current`'s keys already: by the
 * backup's manifest, else by trying the data (`probe`); `current` itself when the manifest names
 * another key but nothing is sealed under it (the contact hashes are recomputed all the same); an old
 * key the operator names whenever the data may still hold some of it. Refuses, saying what to pass,
 * when that key is needed and not given, or not the one; callers ask before they change anything.
 */
export async function previousKeyFor(
  current: MasterKey,
  id: string | undefined,
  previous: MasterKey | undefined,
  probe: (k: MasterKey) => Promise<Probe>,
): Promise<MasterKey | null> {
  const state = id === current.id ? 'opens' : await probe(current);
  // Named by the operator, an old key moves whatever is still under it: the probe tries a few items of
  // each kind, so a rotation or re-seal stopped inside one kind passes it as the current key's. The
  // re-seal leaves what opens under the current key as it is, so this is only the cost of a pass.
  const named = previous && previous.id !== current.id && (!id || id === current.id) ? previous : undefined;
  if (named && (state === 'opens' || state === 'none')) return named;
  if (id ? id === current.id : state === 'opens' || state === 'none') return null;
  // Nothing sealed that the current key cannot open: only the keyed contact hashes follow the key.
  if (state === 'none') return current;
  const what = id ? `master key ${id}` : 'another master key';
  if (!previous)
    throw new VeilError(
      'MASTER_KEY_INVALID',
      `The backup's data is sealed under keys derived from ${what}, not from this installation's (${current.id}): the master key was rotated since the backup. Run the restore again with --previous-master-key FILE, FILE holding the master key in use when the backup was taken (64 hex digits); nothing was changed.`,
    );
  // Part under the current key already (`mixed`): the re-seal leaves that part as it is.
  if (id ? previous.id !== id : previous.id === current.id || !['opens', 'mixed'].includes(await probe(previous)))
    throw new VeilError(
      'MASTER_KEY_INVALID',
      `The key given as the previous master key (${previous.id}) is not the one the backup's data is sealed under (${what}); nothing was changed.`,
    );
  return previous;
}

/** Copies a directory of sealed files, 0700 directories and 0600 files. */
export function copyTree(from: string, to: string): void {
  if (!existsSync(from)) return;
  mkdirSync(to, { recursive: true, mode: 0o700 });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const [a, b] = [join(from, e.name), join(to, e.name)];
    if (e.isDirectory()) copyTree(a, b);
    else if (e.isFile()) writeFileSync(b, readFileSync(a), { mode: 0o600 });
  }
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.isFile()) out.push(relative(dir, join(d, e.name)));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.filter((p) => p !== 'manifest.json').sort();
}

export function fileEntry(dir: string, path: string): { path: string; bytes: number; sha256: string } {
  const b = readFileSync(join(dir, path));
  return { path, bytes: b.length, sha256: createHash('sha256').update(b).digest('hex') };
}

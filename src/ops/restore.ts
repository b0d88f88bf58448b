import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sqlitePath, type Settings } from '../config/settings.js';
import { assertSqliteUnused } from '../store/sqlite.js';
import { openVeil } from '../app/veil.js';
import type { Actor } from '../auth/actor.js';
import { VeilError } from '../errors.js';
import { Keystore } from '../privacy/keystore.js';
import { MasterKey } from '../privacy/keys.js';
import { probeDerived } from '../privacy/derived-reseal.js';
import { openStore } from '../store/store.js';
import {
  BACKUP_DIRS,
  copyTree,
  fileEntry,
  previousKeyFor,
  type BackupManifest,
  type ReplayReport,
} from './backup.service.js';

export interface RestoreReport extends ReplayReport {
  /** Where the database and files that were in place went (delete it once the restore is checked). */
  readonly setAside: string | null;
  readonly files: number;
}

/** The copy of a backup's database a restore tries keys on, in the data directory while it runs. */
const PROBE_COPY = 'restore-probe-';

/**
 * `veil restore DIR` for the embedded store, with every Veil process stopped: checks the backup
 * against its manifest, sets what is in place aside, puts the copy in, opens Veil on it (migrating an
 * older schema) and replays the erasures the keystore remembers. The keystore is not in the backup and
 * must be this installation's own: restoring without it would make every key read as destroyed. A
 * backup taken before a master key rotation needs the key it was taken under (`previousKey`), to
 * seal its derived-key data again under the installation's; without it the restore refuses first.
 */
export async function restoreBackup(
  settings: Settings,
  from: string,
  actor: Actor,
  opts: { previousKey?: Buffer } = {},
): Promise<RestoreReport> {
  if (settings.databaseUrl)
    throw new VeilError(
      'INVALID_STATE',
      "This installation uses PostgreSQL: restore its dump with pg_restore, copy images/, media/ and exports/ back, then run 'veil restore --replay-only' (docs/deploy.md).",
    );
  const manifest = readManifest(from);
  const dataDir = settings.dataDir;
  if (!Keystore.exists(dataDir))
    throw new VeilError(
      'INVALID_STATE',
      `No keystore in ${join(dataDir, 'keys')}: a restore needs this installation's keys/ (backups never hold it). Put it back first; without it no restored key can be read and every erasure since the backup would be forgotten.`,
    );
  const { keystoreId } = await Keystore.readHeader(dataDir);
  if (manifest.keystoreId && manifest.keystoreId !== keystoreId)
    throw new VeilError(
      'INVALID_INPUT',
      `${from} is a backup of another installation (keystore ${manifest.keystoreId}, not this one's ${keystoreId}): its keys are in that installation's keys/, never in a backup. Restore it there; nothing was changed here.`,
    );
  const db = sqlitePath(settings);
  if (existsSync(db)) assertSqliteUnused(db);
  removeProbeCopies(dataDir);
  const sealed = { backupMasterId: manifest.masterKeyId, previousKey: opts.previousKey };
  const { master } = MasterKey.load(dataDir, settings.masterKey);
  const previous = opts.previousKey ? MasterKey.fromBytes(opts.previousKey) : undefined;
  await checkSealedUnder(from, dataDir, master, manifest.masterKeyId, previous);
  const setAside = moveAside(dataDir, db);
  writeFileSync(db, readFileSync(join(from, 'veil.db')), { mode: 0o600 });
  for (const d of BACKUP_DIRS) copyTree(join(from, d), join(dataDir, d));
  const v = await openVeil({ dataDir, settings, restoring: true });
  try {
    const replay = await v.services.backup.replayErasures(actor, sealed);
    return { ...replay, setAside, files: manifest.files.length };
  } finally {
    await v.close();
  }
}

/**
 * Refuses a backup sealed under another master key's derived keys without that key, before anything is
 * set aside: unless the manifest names the installation's key, the backup's sealed data is tried on a
 * copy of its database (opened without migrating). A copy too old to read that way is judged after the
 * migration instead, by the replay's same check, before its first change.
 */
async function checkSealedUnder(
  from: string,
  dataDir: string,
  master: MasterKey,
  id: string | undefined,
  previous: MasterKey | undefined,
): Promise<void> {
  if (id === master.id) return;
  const copy = join(dataDir, `${PROBE_COPY}${randomBytes(6).toString('hex')}.db`);
  writeFileSync(copy, readFileSync(join(from, 'veil.db')), { mode: 0o600 });
  try {
    const store = await openStore({ sqlitePath: copy, migrations: 'none' });
    try {
      const probe = (k: MasterKey) => probeDerived({ store, dataDir: from }, k).catch(() => 'none' as const);
      await previousKeyFor(master, id, previous, probe);
    } finally {
      await store.close();
    }
  } finally {
    for (const f of [copy, `${copy}-wal`, `${copy}-shm`]) rmSync(f, { force: true });
  }
}

/** Copies a restore killed while probing left: each holds a backup's sealed data, people erased since among it. */
function removeProbeCopies(dataDir: string): void {
  for (const f of readdirSync(dataDir))
    if (f.startsWith(PROBE_COPY) && /\.db(-wal|-shm)?$/.test(f)) rmSync(join(dataDir, f), { force: true });
}

function readManifest(from: string): BackupManifest {
  const path = join(from, 'manifest.json');
  if (!existsSync(path)) throw new VeilError('INVALID_INPUT', `${from} is not a Veil backup (no manifest.json).`);
  const m = JSON.parse(readFileSync(path, 'utf8')) as BackupManifest;
  if (m.format !== 'veil.backup.v1' || m.database !== 'veil.db')
    throw new VeilError('INVALID_INPUT', `${path} is not a backup this Veil reads (${String(m.format)}).`);
  for (const f of [...m.files]) {
    if (f.path.split(/[\\/]/).includes('..')) throw new VeilError('INVALID_INPUT', `${path} names ${f.path}.`);
    if (!existsSync(join(from, f.path)) || fileEntry(from, f.path).sha256 !== f.sha256)
      throw new VeilError('INVALID_INPUT', `${f.path} in ${from} is missing or differs from the manifest.`);
  }
  return m;
}

/** The database (with its WAL) and the sealed file folders in place go to replaced-<time>/, 0700. */
function moveAside(dataDir: string, db: string): string | null {
  const present = [db, `${db}-wal`, `${db}-shm`, ...BACKUP_DIRS.map((d) => join(dataDir, d))].filter((p) =>
    existsSync(p),
  );
  if (!present.length) return null;
  const aside = join(dataDir, `replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(aside, { recursive: true, mode: 0o700 });
  for (const p of present) renameSync(p, join(aside, p.slice(p.lastIndexOf('/') + 1)));
  return aside;
}

import { resolve } from 'node:path';
import { loadSettings } from '../config/settings.js';
import { restoreBackup } from '../ops/restore.js';
import { NOT_IN_BACKUP, type ReplayReport } from '../ops/backup.service.js';
import { parseCommand } from './args.js';
import { cliActor, openLocalServices } from './context.js';
import { UsageError, type Io } from './output.js';
import { keyFrom } from './keys.commands.js';

const BACKUP_USAGE = `usage: veil backup --out DIR [--json]
A consistent copy of the embedded SQLite database (VACUUM INTO: no free pages) and the sealed files
under images/, media/ and exports/, with a manifest. Never the keystore (keys/) nor master.key: a
backup holding keys would bring back everyone erased after it was taken. PostgreSQL: use pg_dump and
'veil restore --replay-only' (docs/deploy.md).`;

const RESTORE_USAGE = `usage: veil restore DIR [--previous-master-key FILE] [--json]
       veil restore --replay-only [--previous-master-key FILE] [--json]
With every Veil process stopped: sets the database and sealed files in place aside, puts the backup in
DIR there, then erases again everyone the keystore says was erased since the backup was taken.
--replay-only runs just that last step against the configured database (after a pg_restore).
A backup taken before 'veil keys rotate-master' needs the master key it was taken under, in FILE
(64 hex digits): what it holds sealed under that key's derived keys is sealed again under the
current one. Without it such a restore refuses before changing anything.`;

/** `veil backup --out DIR`. */
export async function backupCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { out: { type: 'string' }, json: { type: 'boolean' } },
    BACKUP_USAGE,
  );
  if (values.help) return (io.out(BACKUP_USAGE + '\n'), 0);
  if (!values.out || positionals.length) throw new UsageError(BACKUP_USAGE);
  const v = await openLocalServices(io, env);
  try {
    const m = await v.backup.backup(cliActor(), resolve(values.out));
    if (values.json) io.out(JSON.stringify(m) + '\n');
    else
      io.out(
        [
          `backup in ${resolve(values.out)}: veil.db (schema ${m.schemaVersion}) and ${m.files.length - 1} sealed files`,
          'not in it, on purpose:',
          ...Object.entries(NOT_IN_BACKUP).map(([k, why]) => `  ${k.padEnd(22)} ${why}`),
          'Keep keys/ and the master key safe on their own: without them this backup cannot be read.',
        ].join('\n') + '\n',
      );
    return 0;
  } finally {
    await v.close();
  }
}

/** `veil restore DIR` and `veil restore --replay-only`. */
export async function restoreCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { 'replay-only': { type: 'boolean' }, 'previous-master-key': { type: 'string' }, json: { type: 'boolean' } },
    RESTORE_USAGE,
  );
  if (values.help) return (io.out(RESTORE_USAGE + '\n'), 0);
  const replayOnly = Boolean(values['replay-only']);
  if (replayOnly ? positionals.length : positionals.length !== 1) throw new UsageError(RESTORE_USAGE);
  const file = values['previous-master-key'];
  const previousKey = file ? keyFrom(file) : undefined;
  let r;
  if (replayOnly) {
    const v = await openLocalServices(io, env, { restoring: true });
    try {
      r = { ...(await v.backup.replayErasures(cliActor(), { previousKey })), setAside: null, files: 0 };
    } finally {
      await v.close();
    }
  } else
    r = await restoreBackup(loadSettings(env), resolve(positionals[0]!), cliActor(), {
      ...(previousKey ? { previousKey } : {}),
    });
  const { journal } = r;
  if (values.json)
    io.out(
      JSON.stringify({ replayed: r.replayed, journal, resealed: r.resealed, setAside: r.setAside, files: r.files }) +
        '\n',
    );
  else
    io.out(
      [
        ...(replayOnly ? [] : [`restored the database and ${r.files} files from ${resolve(positionals[0]!)}`]),
        ...(r.setAside ? [`what was in place is in ${r.setAside}: delete it once the restore is checked`] : []),
        ...(r.resealed ? [resealedLine(r.resealed)] : []),
        r.replayed.length
          ? `replayed ${r.replayed.length} erasures the keystore records since the backup (audit actor system:restore): ${r.replayed.join(', ')}`
          : 'no erasure to replay: nobody in the restored database was erased since',
        `replayed from keys/restore-journal.jsonl: ${journal.purposesRemoved} purpose removals (${journal.consentsWithdrawn} consent withdrawals), ${journal.restrictions} restrictions set or lifted, ${journal.suspensions} purpose suspensions set or lifted, ${journal.settings} purpose settings set again, ${journal.suppressionsAdded} do-not-enroll entries`,
        ...(journal.settingsInvalid.length
          ? [
              `NOT replayed: ${journal.settingsInvalid.length} purpose-setting lines with a value no purpose may have (check those purposes' settings): ${journal.settingsInvalid.join(', ')}`,
            ]
          : []),
        ...(journal.suppressionsLost.length
          ? [
              `NOT replayed: ${journal.suppressionsLost.length} do-not-enroll entries whose key is gone (ask those people again; the audit log's suppression.added names their requests): ${journal.suppressionsLost.join(', ')}`,
            ]
          : []),
      ].join('\n') + '\n',
    );
  return 0;
}

function resealedLine(r: NonNullable<ReplayReport['resealed']>): string {
  const c = r.counts;
  const unreadable = r.unreadable ? `; ${r.unreadable} items opened under neither key, left as they were` : '';
  return `sealed again under the current master key, from ${r.from}: ${c.requests} rights requests, ${c.enrollments} portal enrollments, ${c.suppressions} do-not-enroll entries, ${c.media} media files, ${c.exports} export files; ${c.subjects} contact hashes recomputed${unreadable}`;
}

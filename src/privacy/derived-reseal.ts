import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, Tx } from '../store/store.js';
import type { SubjectId } from '../ids.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import { contactHash, seal, type MasterKey } from './keys.js';
import { ContactSecrets } from './contact-secrets.js';
import { isSegmented, openSealedFile, sealSegmented } from './sealed-segments.js';
import type { KeyRing } from './keyring.js';
import { keyRotationRepository as repo } from './key-rotation.repository.js';

export type ResealCounts = Readonly<
  Record<'requests' | 'enrollments' | 'suppressions' | 'subjects' | 'media' | 'exports', number>
>;

// The AADs of data sealed under derived keys, as their writers define them: media in
// gallery/ingest.service.ts, exports in rights/export-files.ts, suppression entries in
// gallery/suppression.ts (the rotation test opens each through its writer afterwards).
const MEDIA_AAD = (id: string) => `veil.media:${id}`;
const EXPORT_AAD = (id: string) => `veil.export:${id}`;
const SUPPRESSION_AAD = (id: string) => `veil.suppression:${id}`;
const BATCH = 200;
/** What a probe finds of the data sealed under a master key's derived keys (`probeDerived`). */
export type Probe = 'opens' | 'mixed' | 'fails' | 'none';
/** Items of each kind a probe tries: enough that one damaged item does not decide. */
const PROBE = 3;

/**
 * Everything in the database and the sealed files that is sealed under keys derived from the master
 * key, moved from one master key's keys to another's: by `veil keys rotate-master` (the installation's
 * own data, before its keystore is rewrapped) and by `veil restore` (a backup taken before a rotation).
 * Keyed contact hashes are recomputed from the addresses, rate-limit buckets cleared. Each item is tried
 * under the new key first, so a run that stopped halfway is simply run again.
 */
export class DerivedReseal {
  constructor(private readonly deps: { store: Store; keyring: KeyRing; vault: TemplateVault; dataDir: string }) {}

  async run(from: MasterKey, to: MasterKey): Promise<{ counts: ResealCounts; unreadable: number }> {
    const move = new Mover(from, to);
    const db = this.deps.store.db;
    const counts = {
      requests: await this.requests(move),
      enrollments: await this.enrollments(move),
      suppressions: await this.suppressions(move),
      subjects: await this.subjectHashes(to),
      media: await this.files(move, 'media', await repo.mediaFiles(db), MEDIA_AAD),
      exports: await this.files(move, 'exports', await repo.exportFiles(db), EXPORT_AAD),
    };
    await repo.clearRateLimits(db);
    return { counts, unreadable: move.unreadable };
  }

  probe(master: MasterKey): Promise<Probe> {
    return probeDerived(this.deps, master);
  }

  private async batches<R extends { id: string }>(rows: R[], fn: (tx: Tx, r: R) => Promise<boolean>): Promise<number> {
    let n = 0;
    for (let i = 0; i < rows.length; i += BATCH)
      n += await this.deps.store.transaction(async (tx) => {
        let done = 0;
        for (const r of rows.slice(i, i + BATCH)) if (await fn(tx, r)) done++;
        return done;
      });
    return n;
  }

  private async requests(m: Mover): Promise<number> {
    return this.batches(await repo.requests(this.deps.store.db), async (tx, r) => {
      const email = m.contact(r.id, r.contact_sealed);
      if (email === null) return false;
      const options = r.fulfil_options ? m.secret(r.id, 'options', r.fulfil_options) : null;
      await repo.updateRequest(tx, r.id, {
        contact_sealed: m.nextSecrets.sealContact(r.id, email),
        contact_hash: contactHash(m.next, email),
        fulfil_options: options ? m.nextSecrets.seal(r.id, 'options', options) : null,
      });
      return true;
    });
  }

  private async enrollments(m: Mover): Promise<number> {
    return this.batches(await repo.enrollments(this.deps.store.db), async (tx, r) => {
      const email = m.contact(r.id, r.contact_sealed);
      if (email === null) return false;
      await repo.updateEnrollment(tx, r.id, {
        contact_sealed: m.nextSecrets.sealContact(r.id, email),
        contact_hash: contactHash(m.next, email),
      });
      return true;
    });
  }

  private async suppressions(m: Mover): Promise<number> {
    return this.batches(await repo.suppressions(this.deps.store.db), async (tx, r) => {
      const sealed = m.derived('suppression', r.sealed, SUPPRESSION_AAD(r.id));
      if (sealed) await repo.updateSuppression(tx, r.id, sealed);
      return sealed !== null;
    });
  }

  /** Contacts stay sealed under each subject's own key; their keyed hash is recomputed under the new master. */
  private async subjectHashes(next: MasterKey): Promise<number> {
    const { store, keyring } = this.deps;
    const rows = await repo.subjectContacts(store.db);
    const keys = await keyring.getMany(
      store.db,
      rows.map((r) => r.id),
    );
    return this.batches(rows, async (tx, r) => {
      const key = keys.get(r.id);
      if (!key) return false;
      const email = this.deps.vault.openContact(key, r.id as SubjectId, r.contact_sealed!);
      await repo.updateSubjectHash(tx, r.id, contactHash(next, email));
      return true;
    });
  }

  /** Each file sealed again under a temporary name, synced and renamed over the old one. */
  private async files(
    m: Mover,
    label: 'media' | 'exports',
    rows: { id: string; path: string }[],
    aad: (id: string) => string,
  ): Promise<number> {
    let n = 0;
    for (const r of rows) {
      const abs = join(this.deps.dataDir, r.path);
      if (!existsSync(abs)) continue;
      const sealed = m.derived(label, readFileSync(abs), aad(r.id));
      if (!sealed) continue;
      const tmp = `${abs}.rotating`;
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, sealed);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, abs);
      n++;
    }
    return n;
  }
}

/**
 * Whether the data sealed under derived keys opens under `master`'s: a few items of each kind are
 * tried. 'none' when there is nothing sealed that way (keyed contact hashes cannot be tried); 'mixed'
 * when some kinds open and every item tried of another does not: a rotation (or a restore's re-seal)
 * that stopped halfway, which moves kind after kind.
 */
export async function probeDerived(
  { store, dataDir }: { store: Store; dataDir: string },
  master: MasterKey,
): Promise<Probe> {
  const secrets = new ContactSecrets(master);
  const kinds: (() => unknown)[][] = [
    (await repo.requests(store.db, PROBE)).map((r) => () => secrets.openContact(r.id, r.contact_sealed)),
    (await repo.enrollments(store.db, PROBE)).map((r) => () => secrets.openContact(r.id, r.contact_sealed)),
    (await repo.suppressions(store.db, PROBE)).map(
      (r) => () => openSealedFile(master.derive('suppression'), r.sealed, SUPPRESSION_AAD(r.id)),
    ),
  ];
  for (const [label, rows, aad] of [
    ['media', await repo.mediaFiles(store.db), MEDIA_AAD],
    ['exports', await repo.exportFiles(store.db), EXPORT_AAD],
  ] as const) {
    const tries: (() => unknown)[] = [];
    for (const r of rows) {
      if (tries.length >= PROBE) break;
      const path = join(dataDir, r.path);
      if (existsSync(path)) tries.push(() => openSealedFile(master.derive(label), readFileSync(path), aad(r.id)));
    }
    kinds.push(tries);
  }
  const opens = kinds.filter((k) => k.length).map((k) => k.some((f) => tryOpen(f) !== null));
  if (!opens.length) return 'none';
  if (opens.every(Boolean)) return 'opens';
  return opens.some(Boolean) ? 'mixed' : 'fails';
}

export function tryOpen<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/** Moves one sealed item from the old master's keys to the new one's; null when nothing is to be done. */
class Mover {
  unreadable = 0;
  readonly oldSecrets: ContactSecrets;
  readonly nextSecrets: ContactSecrets;

  constructor(
    readonly old: MasterKey,
    readonly next: MasterKey,
  ) {
    this.oldSecrets = new ContactSecrets(old);
    this.nextSecrets = new ContactSecrets(next);
  }

  /** The request's or enrollment's address, whichever key it is under now (re-sealing is idempotent). */
  contact(id: string, sealed: Buffer): string | null {
    const email =
      tryOpen(() => this.nextSecrets.openContact(id, sealed)) ?? tryOpen(() => this.oldSecrets.openContact(id, sealed));
    if (email === null) this.unreadable++;
    return email;
  }

  secret(id: string, label: string, sealed: Buffer): Buffer | null {
    const plain =
      tryOpen(() => this.nextSecrets.open(id, label, sealed)) ?? tryOpen(() => this.oldSecrets.open(id, label, sealed));
    if (plain === null) this.unreadable++;
    return plain;
  }

  derived(label: string, sealed: Buffer, aad: string): Buffer | null {
    const [oldKey, nextKey] = [this.old.derive(label), this.next.derive(label)];
    // Access exports are sealed in segments (src/privacy/sealed-segments.ts); they stay so.
    if (tryOpen(() => openSealedFile(nextKey, sealed, aad))) return null;
    const plain = tryOpen(() => openSealedFile(oldKey, sealed, aad));
    if (plain === null) {
      this.unreadable++;
      return null;
    }
    return isSegmented(sealed) ? sealSegmented(nextKey, plain, aad) : seal(nextKey, plain, aad);
  }
}

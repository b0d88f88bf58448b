import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { Store, Tx } from '../store/store.js';
import type { SubjectId } from '../ids.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { AccessPolicy } from '../auth/policy.js';
import type { Actor } from '../auth/actor.js';
import { VeilError } from '../errors.js';
import { contactHash, KEY_BYTES, MasterKey, NEXT_MASTER_FILE, seal } from './keys.js';
import { ContactSecrets } from './contact-secrets.js';
import { isSegmented, openSealedFile, sealSegmented } from './sealed-segments.js';
import { encodeHeader, encodeLive, encodeTombstone, SLOT_BYTES } from './keystore-format.js';
import { Keystore } from './keystore.js';
import type { KeyRing } from './keyring.js';
import { replaceAndScrub, scrubFile, writeSecretFile } from './secret-files.js';
import { keyRotationRepository as repo } from './key-rotation.repository.js';

export interface RotationReport {
  readonly from: string;
  readonly to: string;
  /** Where the new key is (a generated one, in master.key); null when the operator gave it. */
  readonly keyFile: string | null;
  /** VEIL_MASTER_KEY named the old key: every process needs the new one there now. */
  readonly fromEnv: boolean;
  readonly counts: Readonly<
    Record<'slots' | 'requests' | 'enrollments' | 'suppressions' | 'subjects' | 'media' | 'exports', number>
  >;
  /** Items that opened under neither key (corrupt before the rotation), left as they were. */
  readonly unreadable: number;
}

// The AADs of data sealed under derived keys, as their writers define them: media in
// gallery/ingest.service.ts, exports in rights/export-files.ts, suppression entries in
// gallery/suppression.ts (the rotation test opens each through its writer afterwards).
const MEDIA_AAD = (id: string) => `veil.media:${id}`;
const EXPORT_AAD = (id: string) => `veil.export:${id}`;
const SUPPRESSION_AAD = (id: string) => `veil.suppression:${id}`;
const BATCH = 200;

/**
 * `veil keys rotate-master`, with every other Veil process stopped: a new master key, every keystore
 * slot rewrapped under it, and everything sealed under keys derived from it sealed again (rights
 * requests and portal enrollments, suppression entries, media and export files), keyed contact hashes
 * recomputed from the addresses. Each item is tried under the new key first, so a run that stopped
 * halfway is simply run again. The keystore is rewritten last, in one rename: that is the point of no
 * return, after which master.key is replaced (MasterKey.load finishes that step if a crash got between).
 */
export class KeyRotationService {
  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      policy: AccessPolicy;
      keyring: KeyRing;
      vault: TemplateVault;
      master: MasterKey;
      dataDir: string;
      masterFromEnv: boolean;
    },
  ) {}

  async rotateMaster(actor: Actor, opts: { newKey?: Buffer } = {}): Promise<RotationReport> {
    this.deps.policy.require(actor, 'keys.manage');
    const { dataDir, master: old } = this.deps;
    const pending = join(dataDir, NEXT_MASTER_FILE);
    let next: MasterKey;
    if (opts.newKey) next = MasterKey.fromBytes(opts.newKey);
    else if (existsSync(pending)) next = MasterKey.readFile(pending);
    else {
      next = MasterKey.fromBytes(randomBytes(KEY_BYTES));
      // Written before anything is sealed under it: a crash cannot lose the key data now depend on.
      writeSecretFile(pending, next.toHex() + '\n');
    }
    if (next.id === old.id) throw new VeilError('INVALID_INPUT', 'The new master key is the one in use.');
    const move = new Mover(old, next);
    const counts = {
      requests: await this.requests(move),
      enrollments: await this.enrollments(move),
      suppressions: await this.suppressions(move),
      subjects: await this.subjectHashes(next),
      media: await this.files(move, 'media', await repo.mediaFiles(this.deps.store.db), MEDIA_AAD),
      exports: await this.files(move, 'exports', await repo.exportFiles(this.deps.store.db), EXPORT_AAD),
      slots: 0,
    };
    await repo.clearRateLimits(this.deps.store.db);
    const slots = await this.countSlots();
    await this.deps.store.transaction((tx) =>
      this.deps.audit.append(tx, {
        actor,
        action: 'key.master.rotated',
        detail: { from: old.id, to: next.id, ...counts, slots, unreadable: move.unreadable },
      }),
    );
    counts.slots = await this.rewrapKeystore(move);
    let keyFile: string | null = null;
    if (!opts.newKey) {
      keyFile = join(dataDir, 'master.key');
      replaceAndScrub(pending, keyFile);
    } else {
      const file = join(dataDir, 'master.key');
      if (existsSync(file) && MasterKey.readFile(file).id === old.id) scrubFile(file);
    }
    return {
      from: old.id,
      to: next.id,
      keyFile,
      fromEnv: this.deps.masterFromEnv,
      counts,
      unreadable: move.unreadable,
    };
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

  private async countSlots(): Promise<number> {
    return (await this.deps.keyring.keystore.readAll()).filter((s) => s.state === 'live').length;
  }

  /** A new keystore file with every live slot rewrapped, renamed over the old one, whose bytes are then zeroed. */
  private async rewrapKeystore(m: Mover): Promise<number> {
    const { dataDir } = this.deps;
    const header = await Keystore.readHeader(dataDir);
    if (header.masterId === m.next.id) return 0;
    const slots = await new Keystore(dataDir, header).readAll();
    const out = Buffer.alloc((slots.length + 1) * SLOT_BYTES);
    encodeHeader({ keystoreId: header.keystoreId, masterId: m.next.id }).copy(out, 0);
    let live = 0;
    for (const s of slots) {
      let bytes: Buffer | null = null;
      if (s.state === 'tombstone') bytes = encodeTombstone(s.slot, s.owner);
      else if (s.state === 'live') {
        const key = m.tryOpen(() => m.old.unwrapSlot(s.wrapped!, s.owner, s.slot));
        if (key) {
          bytes = encodeLive(s.slot, s.owner, m.next.wrapSlot(key, s.owner, s.slot), s.createdAt);
          live++;
        } else m.unreadable++;
      }
      bytes?.copy(out, s.slot * SLOT_BYTES);
    }
    const path = Keystore.pathIn(dataDir);
    writeSecretFile(`${path}.next`, out);
    replaceAndScrub(`${path}.next`, path);
    return live;
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

  tryOpen<T>(f: () => T): T | null {
    try {
      return f();
    } catch {
      return null;
    }
  }

  /** The request's or enrollment's address, whichever key it is under now (re-sealing is idempotent). */
  contact(id: string, sealed: Buffer): string | null {
    const email =
      this.tryOpen(() => this.nextSecrets.openContact(id, sealed)) ??
      this.tryOpen(() => this.oldSecrets.openContact(id, sealed));
    if (email === null) this.unreadable++;
    return email;
  }

  secret(id: string, label: string, sealed: Buffer): Buffer | null {
    const plain =
      this.tryOpen(() => this.nextSecrets.open(id, label, sealed)) ??
      this.tryOpen(() => this.oldSecrets.open(id, label, sealed));
    if (plain === null) this.unreadable++;
    return plain;
  }

  derived(label: string, sealed: Buffer, aad: string): Buffer | null {
    const [oldKey, nextKey] = [this.old.derive(label), this.next.derive(label)];
    // Access exports are sealed in segments (src/privacy/sealed-segments.ts); they stay so.
    if (this.tryOpen(() => openSealedFile(nextKey, sealed, aad))) return null;
    const plain = this.tryOpen(() => openSealedFile(oldKey, sealed, aad));
    if (plain === null) {
      this.unreadable++;
      return null;
    }
    return isSegmented(sealed) ? sealSegmented(nextKey, plain, aad) : seal(nextKey, plain, aad);
  }
}

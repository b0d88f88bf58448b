import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { AccessPolicy } from '../auth/policy.js';
import type { Actor } from '../auth/actor.js';
import { VeilError } from '../errors.js';
import { KEY_BYTES, MasterKey, NEXT_MASTER_FILE } from './keys.js';
import { DerivedReseal, tryOpen } from './derived-reseal.js';
import { encodeHeader, encodeLive, encodeTombstone, SLOT_BYTES } from './keystore-format.js';
import { Keystore } from './keystore.js';
import type { KeyRing } from './keyring.js';
import { replaceAndScrub, scrubFile, writeSecretFile } from './secret-files.js';

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

/**
 * `veil keys rotate-master`, with every other Veil process stopped: a new master key, every keystore
 * slot rewrapped under it, and everything sealed under keys derived from it sealed again (rights
 * requests and portal enrollments, suppression entries, media and export files), keyed contact hashes
 * recomputed from the addresses (derived-reseal.ts, which a restore of an older backup shares). Each
 * item is tried under the new key first, so a run that stopped halfway is simply run again. The keystore is rewritten last, in one rename: that is the point of no
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
    const moved = await new DerivedReseal(this.deps).run(old, next);
    const tally = { unreadable: moved.unreadable };
    const counts = { ...moved.counts, slots: 0 };
    const slots = await this.countSlots();
    await this.deps.store.transaction((tx) =>
      this.deps.audit.append(tx, {
        actor,
        action: 'key.master.rotated',
        detail: { from: old.id, to: next.id, ...counts, slots, unreadable: tally.unreadable },
      }),
    );
    counts.slots = await this.rewrapKeystore(old, next, tally);
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
      unreadable: tally.unreadable,
    };
  }

  private async countSlots(): Promise<number> {
    return (await this.deps.keyring.keystore.readAll()).filter((s) => s.state === 'live').length;
  }

  /** A new keystore file with every live slot rewrapped, renamed over the old one, whose bytes are then zeroed. */
  private async rewrapKeystore(old: MasterKey, next: MasterKey, tally: { unreadable: number }): Promise<number> {
    const { dataDir } = this.deps;
    const header = await Keystore.readHeader(dataDir);
    if (header.masterId === next.id) return 0;
    const slots = await new Keystore(dataDir, header).readAll();
    const out = Buffer.alloc((slots.length + 1) * SLOT_BYTES);
    encodeHeader({ keystoreId: header.keystoreId, masterId: next.id }).copy(out, 0);
    let live = 0;
    for (const s of slots) {
      let bytes: Buffer | null = null;
      if (s.state === 'tombstone') bytes = encodeTombstone(s.slot, s.owner);
      else if (s.state === 'live') {
        const key = tryOpen(() => old.unwrapSlot(s.wrapped!, s.owner, s.slot));
        if (key) {
          bytes = encodeLive(s.slot, s.owner, next.wrapSlot(key, s.owner, s.slot), s.createdAt);
          live++;
        } else tally.unreadable++;
      }
      bytes?.copy(out, s.slot * SLOT_BYTES);
    }
    const path = Keystore.pathIn(dataDir);
    writeSecretFile(`${path}.next`, out);
    replaceAndScrub(`${path}.next`, path);
    return live;
  }
}

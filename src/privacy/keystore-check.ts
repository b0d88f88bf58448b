import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/store.js';
import { MasterKey } from './keys.js';
import { Keystore } from './keystore.js';
import { keySlotRepository as slots } from './key-slot.repository.js';

const SAMPLE = 20;

/**
 * `veil db check`'s master key line: does this process's master key open the keys, in the keystore
 * (and in the old subject_keys table until the next start moves them)? Read-only: it never creates
 * a key, nor finishes an interrupted rotation. Reports counts, never an owner.
 */
export async function checkMasterKey(d: {
  store: Store;
  dataDir: string;
  masterKey: string | undefined;
}): Promise<{ status: 'ok' | 'warn' | 'fail'; detail: string }> {
  const db = d.store.db;
  const [named, legacy] = [await slots.count(db), await slots.legacyCount(db)];
  const file = join(d.dataDir, 'master.key');
  if (!d.masterKey && !existsSync(file))
    return {
      status: named || legacy ? 'fail' : 'warn',
      detail: `no VEIL_MASTER_KEY and no ${file}${named || legacy ? ': stored subject keys cannot be opened' : ''}`,
    };
  const master = d.masterKey ? MasterKey.parse(d.masterKey) : MasterKey.readFile(file);
  let tried = 0;
  let bad = 0;
  if (Keystore.exists(d.dataDir)) {
    const header = await Keystore.readHeader(d.dataDir);
    if (header.masterId !== master.id)
      return {
        status: 'fail',
        detail: `keys/ is wrapped under master key ${header.masterId}, this process has ${master.id}: processes must share VEIL_MASTER_KEY`,
      };
    const keystore = new Keystore(d.dataDir, header);
    const sample = (await slots.all(db)).filter((r) => !r.destroyed).slice(-SAMPLE);
    const read = await keystore.readMany(sample.map((r) => r.slot));
    for (const r of sample) {
      const s = read.get(r.slot)!;
      tried++;
      try {
        if (s.state !== 'live' || s.owner !== r.owner) throw new Error('not live');
        master.unwrapSlot(s.wrapped!, s.owner, s.slot);
      } catch {
        bad++;
      }
    }
  } else if (named)
    return { status: 'fail', detail: `the database names ${named} keys but ${Keystore.pathIn(d.dataDir)} is missing` };
  for (const r of await slots.legacySample(db, SAMPLE)) {
    tried++;
    try {
      master.unwrap(r.wrapped, r.owner);
    } catch {
      bad++;
    }
  }
  if (bad)
    return {
      status: 'fail',
      detail: `${bad} of ${tried} sampled subject keys do not open with this master key: processes must share VEIL_MASTER_KEY`,
    };
  const moving = legacy ? `; ${legacy} still in the database, moved out at the next start` : '';
  return { status: 'ok', detail: `opens ${tried} of ${tried} sampled subject keys${moving}` };
}

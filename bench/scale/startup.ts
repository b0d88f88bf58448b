// Start-up at scale: STARTUP_N templates (default 100,000) written through the repositories as
// enrollment writes them (one subject, one data key in the keystore, one sealed template and one
// enrollment each), then the instance is reopened and timed, with the rebuild taken apart.
//
// Bulk path: rows go in transactions of 2,000 and the keystore slots of a transaction in one write
// (one fdatasync) before it commits, instead of KeyRing.create's one synced write per key.
import { fileURLToPath } from 'node:url';
import type { Veil } from '../../src/app/veil.js';
import { actors } from '../../src/auth/actor.js';
import { newId, type PurposeId } from '../../src/ids.js';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { keySlotRepository } from '../../src/privacy/key-slot.repository.js';
import { encodeLive } from '../../src/privacy/keystore-format.js';

import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { MasterKey, newDataKey } from '../../src/privacy/keys.js';
import { openKeyRing } from '../../src/privacy/keystore-upkeep.js';
import { TemplateVault } from '../../src/gallery/template-vault.js';
import { GalleryIndex } from '../../src/vector/gallery-index.js';
import { MODELS } from '../../src/face/models.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { tempDir } from '../../support/database.js';

export async function seedBulk(
  v: Veil,
  purposeId: PurposeId,
  n: number,
  vector: (i: number) => Float32Array,
  log: (s: string) => void = () => undefined,
): Promise<void> {
  const now = new Date().toISOString();
  const secs = Math.floor(Date.now() / 1000);
  for (let i = 0; i < n; i += 2000) {
    await v.store.transaction(async (tx) => {
      const slots: { slot: number; bytes: Buffer }[] = [];
      for (let j = i; j < Math.min(n, i + 2000); j++) {
        const sid = newId.subject();
        await subjectRepository.insert(tx, { id: sid, region: null, contactHash: null, contactSealed: null, at: now });
        const key = newDataKey();
        const slot = await keySlotRepository.allocate(tx, sid, now);
        slots.push({ slot, bytes: encodeLive(slot, sid, v.keyring.master.wrapSlot(key, sid, slot), secs) });
        const tid = newId.template();
        const sealed = v.vault.sealTemplate(key, tid, sid, purposeId, vector(j));
        await subjectRepository.insertTemplate(
          tx,
          {
            id: tid,
            subjectId: sid,
            purposeId,
            model: v.engine.modelId,
            quality: {},
            sourceSha256: '0'.repeat(64),
            sealed,
            imagePath: null,
            createdAt: now,
          },
          512,
        );
        await subjectRepository.upsertEnrollment(tx, {
          subjectId: sid,
          purposeId,
          consentId: null,
          sourceReference: 'bench',
          at: now,
        });
      }
      await v.keyring.keystore.write(slots);
    });
    if ((i / 2000) % 25 === 0) log(`seeded ${i + 2000}`);
  }
}

export async function measureStartup(n: number, reuse: string | undefined, log: (s: string) => void) {
  const dataDir = reuse ?? tempDir('veil-scale-startup-');
  const engine = new FakeAnalyzer();
  // veil.js is imported when used: the bench's own part runs even while other services do not load.
  const { openVeil } = await import('../../src/app/veil.js');
  let t = performance.now();
  if (!reuse) {
    const v = await openVeil({ dataDir, engine, env: {} });
    const purpose = await v.purposes.create(actors.system('bench'), {
      key: 'scale',
      name: 'Scale',
      description: 'Find the photos of you taken at our events.',
      lawfulBasis: 'consent',
    });
    await seedBulk(v, purpose.id as PurposeId, n, randomUnit, log);
    await v.close();
  }
  const seedSeconds = (performance.now() - t) / 1000;
  // Start-up's index part, on its own: the store and the keyring opened, every matchable template
  // read, decrypted and added to a fresh index.
  t = performance.now();
  const store = await openStore({ sqlitePath: join(dataDir, 'veil.db'), migrations: 'none' });
  const { master } = MasterKey.load(dataDir, undefined);
  const { keyring } = await openKeyRing({ store, master, dataDir });
  const vault = new TemplateVault({ keyring, dataDir, model: MODELS.embedder.id });
  const index = new GalleryIndex(512);
  for (const x of await vault.matchable(store.db)) index.add(x);
  const indexStartSeconds = (performance.now() - t) / 1000;
  // The read alone, twice each way, alternating: the paged read (what start-up runs now) and the
  // read it replaced (every row with every column, then every key by owner), as the baseline.
  const paged: number[] = [];
  const legacy: number[] = [];
  for (let round = 0; round < 2; round++) {
    t = performance.now();
    await vault.matchable(store.db);
    paged.push((performance.now() - t) / 1000);
    t = performance.now();
    const rows = await subjectRepository.templates(store.db, { matchableOnly: true });
    const keys = await keyring.getMany(
      store.db,
      rows.map((r) => r.subjectId),
    );
    for (const r of rows) vault.openTemplate(keys.get(r.subjectId)!, r);
    legacy.push((performance.now() - t) / 1000);
  }
  await store.close();
  // The whole instance, when the tree's other services open (it is shared with work in progress).
  let startSeconds: number | null = null;
  try {
    t = performance.now();
    const v = await openVeil({ dataDir, engine, env: {} });
    startSeconds = (performance.now() - t) / 1000;
    await v.close();
  } catch (e) {
    log(`openVeil failed: ${(e as Error).message}`);
  }
  return {
    dataDir,
    templates: index.size(),
    seedSeconds,
    indexStartSeconds,
    startSeconds,
    readAndDecryptSeconds: { paged, legacy },
  };
}

function randomUnit(): Float32Array {
  const x = new Float32Array(512);
  let s = 0;
  for (let j = 0; j < 512; j++) s += (x[j] = Math.random() - 0.5) ** 2;
  return x.map((y) => y / Math.sqrt(s));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.env['STARTUP_N'] ?? 100_000);
  const r = await measureStartup(n, process.env['STARTUP_DIR'], (s) => process.stderr.write(`startup: ${s}\n`));
  process.stdout.write(JSON.stringify(r) + '\n');
}

// Start-up at scale: STARTUP_N templates (default 100,000) written through the repositories as
// enrollment writes them (one subject, one data key in the keystore, one sealed template and one
// enrollment each), then the rebuild is timed with decryption on worker threads and on one thread
// (alternating, wall and CPU seconds of this thread), the quantised tier's exact re-read of 20
// templates is timed, and the whole instance is reopened and timed.
//
// Bulk path: rows go in transactions of 2,000 and the keystore slots of a transaction in one write
// (one fdatasync) before it commits, instead of KeyRing.create's one synced write per key.
import { fileURLToPath } from 'node:url';
import type { Veil } from '../../src/app/veil.js';
import { newId, type PurposeId } from '../../src/ids.js';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { keySlotRepository } from '../../src/privacy/key-slot.repository.js';
import { encodeLive } from '../../src/privacy/keystore-format.js';

import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { MasterKey, newDataKey } from '../../src/privacy/keys.js';
import { openKeyRing } from '../../src/privacy/keystore-upkeep.js';
import { TemplateVault, WORKERS_FROM } from '../../src/gallery/template-vault.js';
import { GalleryIndex } from '../../src/vector/gallery-index.js';
import { MODELS } from '../../src/face/models.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { tempDir } from '../../support/database.js';
import { benchPurpose } from '../seed.js';

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
    const purpose = await benchPurpose(v, 'scale');
    await seedBulk(v, purpose.id as PurposeId, n, randomUnit, log);
    await v.close();
  }
  const seedSeconds = (performance.now() - t) / 1000;
  // Start-up's index part, on its own: the store and the keyring opened, every matchable template
  // read, decrypted and added to a fresh index a page at a time, as FaceDataLifecycle.rebuild does
  // (decryption on worker threads from WORKERS_FROM templates on), against the same on one thread,
  // alternating, twice each.
  const store = await openStore({ sqlitePath: join(dataDir, 'veil.db'), migrations: 'none' });
  const { master } = MasterKey.load(dataDir, undefined);
  const { keyring } = await openKeyRing({ store, master, dataDir });
  const vault = new TemplateVault({ keyring, dataDir, model: MODELS.embedder.id });
  const rebuild = async (workersFrom: number) => {
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const index = new GalleryIndex(512, { exact: (ids) => vault.vectors(store.db, ids) });
    for await (const page of vault.matchablePages(store.db, 20_000, workersFrom)) for (const x of page) index.add(x);
    const cpu = process.cpuUsage(cpu0);
    return { index, seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  };
  const workers: { seconds: number; cpuSeconds: number }[] = [];
  const oneThread: { seconds: number; cpuSeconds: number }[] = [];
  let index!: GalleryIndex;
  for (let round = 0; round < 2; round++) {
    const w = await rebuild(WORKERS_FROM);
    index = w.index;
    workers.push({ seconds: w.seconds, cpuSeconds: w.cpuSeconds });
    log(`rebuild with workers ${w.seconds.toFixed(1)} s`);
    const o = await rebuild(Infinity);
    oneThread.push({ seconds: o.seconds, cpuSeconds: o.cpuSeconds });
    log(`rebuild on one thread ${o.seconds.toFixed(1)} s`);
  }
  const indexStartSeconds = Math.min(...workers.map((w) => w.seconds));
  // The quantised tier's exact re-score: the vectors of 20 random templates read and decrypted from the store.
  const ids = index.snapshot();
  const pool = Object.values(ids).flat();
  const readMs: number[] = [];
  for (let i = 0; i < 200; i++) {
    const pick = Array.from({ length: 20 }, () => pool[Math.floor(Math.random() * pool.length)]!);
    t = performance.now();
    await vault.vectors(store.db, pick);
    readMs.push(performance.now() - t);
  }
  readMs.sort((a, b) => a - b);
  const exactRead20Ms = { p50: readMs[100]!, p99: readMs[198]! };
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
    rebuild: { workers, oneThread },
    exactRead20Ms,
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

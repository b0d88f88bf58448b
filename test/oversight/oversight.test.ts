import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { strFromU8, unzipSync } from 'fflate';
import { openVeil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import { isVeilError } from '../../src/errors.js';
import { verifyExport } from '../../src/audit/verify.js';
import { verifyInclusion } from '../../src/audit/merkle.js';
import { verifyCertificate } from '../../src/rights/certificate.js';
import { ropaMarkdown } from '../../src/oversight/ropa.js';
import { consentRepository } from '../../src/privacy/consent.repository.js';
import { engineOptions, face, tempDir } from '../helpers.js';
import { NOTICE, engine, operator } from '../gallery/fixture.js';
import { keyActor } from '../../support/actors.js';

const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e) => (isVeilError(e) ? e.code : `untyped: ${String(e)}`),
  );
const DAY = 86_400_000;
const why = { justification: 'test' };

async function setup() {
  const clock = new ManualClock('2026-03-01T09:00:00.000Z');
  const v = await openVeil({
    ...(await engineOptions()),
    dataDir: tempDir('veil-oversight-'),
    clock,
    engine: await engine(),
    env: {},
    controller: 'Acme Events SAS',
    oversight: {
      dpo: { name: 'Dana Protection', email: 'dpo@acme.example' },
      transfers: ['Backups in Switzerland (adequacy decision)'],
      searchLogRetention: 'P30D',
    },
  });
  return { v, clock };
}

async function enroll(
  v: Awaited<ReturnType<typeof setup>>['v'],
  purpose: string,
  img: string,
  opts: { subjectId?: string; expiresAt?: string } = {},
) {
  const { consent } = await v.consents.give(operator, {
    purpose,
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 't',
    ...(opts.subjectId ? { subjectId: opts.subjectId } : {}),
    ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}),
  });
  return v.gallery.enroll(operator, { purpose, consentId: consent.id, images: [face(img)] });
}

test('the record of processing follows configuration and live data', async () => {
  const { v } = await setup();
  await v.purposes.create(operator, {
    key: 'events',
    name: 'Event photos',
    description: 'Find the photos of you taken at our events.',
    lawfulBasis: 'consent',
    recipients: ['Photographer'],
  });
  await enroll(v, 'events', 'face_recognition/obama/test_obama.jpg');
  await enroll(v, 'events', 'face_recognition/biden/test_biden.jpg');
  await v.search.identify(keyActor('operator', ['events'], 'key_photographer'), {
    purpose: 'events',
    image: face('face_recognition/obama/test_obama2.jpg'),
    ...why,
  });
  const r = await v.records.ropa(operator);
  assert.equal(r.controller.name, 'Acme Events SAS');
  assert.equal(r.dpo.email, 'dpo@acme.example');
  const p = r.processing[0]!;
  assert.equal(p.subjects, 2);
  assert.equal(p.categoriesOfPersonalData[0]!.records, 2);
  assert.deepEqual(p.transfers, ['Backups in Switzerland (adequacy decision)']);
  assert.equal(p.lawfulBasis.art6Dpv, 'dpv:Consent');
  assert.equal(p.lawfulBasis.art9Dpv, 'dpv-gdpr:A9-2-a');
  assert.deepEqual(p.recipients.observedInSearchAccounting, [
    { actor: 'api-key:key_photographer', disclosingSearches: 1 },
  ]);
  const md = ropaMarkdown(r);
  assert.match(md, /## Event photos/);
  assert.match(md, /key_photographer/);
  const dpia = await v.records.dpia(operator, 'events');
  assert.match(dpia, /DRAFT/);
  assert.match(dpia, /TO COMPLETE/);
  assert.match(dpia, /2 people, 2 templates, 1 searches/);
  await v.close();
});

test('retention erases exactly what is past retention, with certificates; a dry run erases nothing', async () => {
  const { v, clock } = await setup();
  await v.purposes.create(operator, {
    key: 'day-pass',
    name: 'Day pass',
    description: 'Check-in for a one-month pass at the venue.',
    lawfulBasis: 'consent',
    retention: 'P30D',
  });
  await v.purposes.create(operator, {
    key: 'members',
    name: 'Members',
    description: 'Member check-in at the front desk for a year.',
    lawfulBasis: 'consent',
    retention: 'P1Y',
  });
  const x = await enroll(v, 'day-pass', 'face_recognition/obama/test_obama.jpg');
  const y = await enroll(v, 'members', 'face_recognition/biden/test_biden.jpg');
  await enroll(v, 'day-pass', 'face_recognition/biden/test_biden.jpg', { subjectId: y.subjectId });
  const z = await enroll(v, 'members', 'faceapi_bbt/raj/raj1.png', { expiresAt: '2026-03-10T00:00:00.000Z' });
  await v.search.identify(operator, {
    purpose: 'members',
    image: face('face_recognition/biden/test_biden.jpg'),
    ...why,
  });
  clock.advance(20 * DAY);
  const early = await v.retention.run(operator, { dryRun: true });
  assert.deepEqual(
    early.enrollments.map((e) => [e.subjectId, e.reason]),
    [[z.subjectId, 'consent-expired']],
  );
  clock.advance(11 * DAY);
  const templatesBefore = (await v.store.db.selectFrom('templates').selectAll().execute()).length;
  const dry = await v.retention.run(operator, { dryRun: true });
  assert.equal(dry.dryRun, true);
  const plan = Object.fromEntries(dry.enrollments.map((e) => [`${e.subjectId}/${e.purpose}`, e.action]));
  assert.deepEqual(plan, {
    [`${x.subjectId}/day-pass`]: 'erase-subject',
    [`${y.subjectId}/day-pass`]: 'remove-purpose',
    [`${z.subjectId}/members`]: 'erase-subject',
  });
  assert.equal(dry.searches, 1);
  assert.equal(
    (await v.store.db.selectFrom('templates').selectAll().execute()).length,
    templatesBefore,
    'dry run erases nothing',
  );

  const done = await v.retention.run(operator, { dryRun: false });
  assert.equal(done.certificates.length, 1);
  assert.deepEqual(verifyCertificate(done.certificates[0]!, v.auditLog.publicKeyPem), []);
  assert.deepEqual(done.certificates[0]!.subjects.map((s) => s.subjectId).sort(), [x.subjectId, z.subjectId].sort());
  const left = await v.store.db.selectFrom('templates').select(['subject_id', 'purpose_id']).execute();
  assert.deepEqual(
    left.map((t) => t.subject_id),
    [y.subjectId],
    'only the member template of Y is left',
  );
  // The consent Y gave for the day pass ends in its history, through the consent record: not a silent update.
  const dayPass = (await consentRepository.forSubject(v.store.db, y.subjectId)).find(
    (c) => c.purposeId !== left[0]!.purpose_id,
  )!;
  assert.equal(dayPass.state, 'expired');
  assert.deepEqual(
    dayPass.history.map((h) => [h.state, h.actor]),
    [
      ['given', 'api-key:key_operator'],
      ['expired', 'system:retention'],
    ],
  );
  assert.equal(
    (
      await v.search.identify(operator, {
        purpose: 'members',
        image: face('face_recognition/biden/knn_train_biden_biden2.jpg'),
        ...why,
      })
    ).candidates[0]?.subjectId,
    y.subjectId,
  );
  assert.equal(
    (
      await v.search.identify(operator, {
        purpose: 'day-pass',
        image: face('face_recognition/biden/knn_train_biden_biden2.jpg'),
        ...why,
      })
    ).decision,
    'no-match',
  );
  assert.equal(
    (await v.store.db.selectFrom('searches').selectAll().where('at', '<', '2026-03-05').execute()).length,
    0,
    'old search log gone',
  );
  const again = await v.retention.run(operator, { dryRun: false });
  assert.equal(again.enrollments.length, 0, 'nothing left to do');
  assert.deepEqual(
    (await v.retention.schedule()).map((s) => s.retention),
    ['P30D', 'P1Y'],
  );
  await v.close();
});

test('a suspended purpose refuses enroll, identify and ingest at once; orders and breaches go overdue with the clock; the evidence bundle verifies standalone', async () => {
  const { v, clock } = await setup();
  await v.purposes.create(operator, {
    key: 'events',
    name: 'Event photos',
    description: 'Find the photos of you taken at our events.',
    lawfulBasis: 'consent',
  });
  const a = await enroll(v, 'events', 'face_recognition/obama/test_obama.jpg');
  const dpo = keyActor('dpo', '*', 'key_dpo');
  const order = await v.orders.record(dpo, {
    authority: 'CNIL',
    reference: 'MED-2026-042',
    receivedAt: clock.now().toISOString(),
    deadline: new Date(clock.now().getTime() + 60 * DAY).toISOString(),
    demands: [
      { type: 'suspend-purpose', purpose: 'events', detail: 'Stop processing for event matching pending review.' },
      { type: 'provide-records', detail: 'Send the record of processing.' },
    ],
  });
  assert.equal(order.overdue, false);
  await v.orders.act(dpo, order.id, {
    kind: 'suspend-purpose',
    purpose: 'events',
    description: 'Purpose suspended as ordered.',
  });
  assert.equal(
    await code(
      v.search.identify(operator, { purpose: 'events', image: face('face_recognition/obama/test_obama2.jpg'), ...why }),
    ),
    'PURPOSE_SUSPENDED',
  );
  assert.equal(
    await code(
      v.gallery.enroll(operator, {
        purpose: 'events',
        subjectId: a.subjectId,
        images: [face('face_recognition/obama/test_obama3.jpg')],
      }),
    ),
    'PURPOSE_SUSPENDED',
  );
  assert.equal(
    await code(
      v.media.ingest(operator, 'events', {
        name: 'p.jpg',
        bytes: face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg'),
      }),
    ),
    'PURPOSE_SUSPENDED',
  );
  assert.equal(
    await code(
      v.consents.give(operator, {
        purpose: 'events',
        noticeText: NOTICE,
        noticeVersion: '1',
        method: 'api',
        collector: 't',
      }),
    ),
    'PURPOSE_SUSPENDED',
  );
  await v.orders.act(dpo, order.id, { kind: 'export', description: 'Record of processing sent.' });

  const breach = await v.breaches.record(dpo, {
    discoveredAt: clock.now().toISOString(),
    nature: 'A laptop with an export was stolen.',
    categories: ['contact data'],
    approxPeople: 12,
    approxRecords: 12,
    consequences: 'Phishing risk.',
    measures: 'Export keys rotated.',
  });
  assert.equal(breach.notifyBy, '2026-03-04T09:00:00.000Z');
  clock.advance(73 * 3_600_000);
  assert.deepEqual(
    (await v.breaches.list(dpo, { overdue: true })).map((b) => b.id),
    [breach.id],
  );
  await v.breaches.notify(dpo, breach.id, 'CNIL-NOTIF-77');
  assert.equal((await v.breaches.list(dpo, { overdue: true })).length, 0);
  await v.breaches.decidePeople(dpo, breach.id, false, 'Data was encrypted; Art. 34(3)(a) applies.');
  clock.advance(60 * DAY);
  assert.deepEqual(
    (await v.orders.list(dpo, { overdue: true })).map((o) => o.id),
    [order.id],
  );

  const zip = unzipSync(new Uint8Array(await v.orders.bundle(dpo, order.id)));
  const pub = strFromU8(zip['audit-public-key.pem']!);
  const rep = verifyExport(strFromU8(zip['audit.jsonl']!).trim().split('\n'), { trustedPublicKeys: [pub] });
  assert.equal(rep.ok, true, JSON.stringify(rep.failure));
  assert.ok(
    verify(
      null,
      Buffer.from(zip['manifest.json']!),
      createPublicKey(pub),
      Buffer.from(strFromU8(zip['manifest.sig']!), 'base64'),
    ),
    'manifest signature',
  );
  const manifest = JSON.parse(strFromU8(zip['manifest.json']!));
  for (const [name, digest] of Object.entries(manifest.files))
    assert.equal(createHash('sha256').update(zip[name]!).digest('hex'), digest, name);
  const actions = JSON.parse(strFromU8(zip['actions.json']!));
  assert.equal(actions.length, 2);
  for (const a2 of actions) {
    const p = a2.inclusion;
    assert.ok(
      verifyInclusion(
        p.seq - 1,
        p.treeSize,
        Buffer.from(p.leafHash, 'hex'),
        p.proof.map((x: string) => Buffer.from(x, 'hex')),
        Buffer.from(p.head.rootHash, 'hex'),
      ),
    );
  }
  const counts = JSON.parse(strFromU8(zip['counts.json']!));
  assert.equal(counts.atReceipt.templates, 1);
  assert.equal(JSON.parse(strFromU8(zip['ropa.json']!)).processing[0].purpose.status, 'suspended');
  await v.close();
});

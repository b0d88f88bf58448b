import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubjectId } from '../../src/ids.js';
import type { TemplateVault } from '../../src/gallery/template-vault.js';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { ENGINE } from '../../support/database.js';
import { face } from '../helpers.js';
import { eventPurpose, giveConsent, operator, veil } from './fixture.js';

type V = Awaited<ReturnType<typeof veil>>;

// An enrollment commits its template, then puts it in the live index. A withdrawal of the same person
// committing in between must win: the template it holds in memory is the person's data as it was,
// and once the follower is past the withdrawal's feed entry nothing would take it out again.

const OBAMA = 'face_recognition/obama/test_obama.jpg';

async function given(v: V) {
  await eventPurpose(v);
  const consent = await giveConsent(v);
  return { consent, who: consent.subjectId as SubjectId };
}

/** Runs `then` around the first transaction an enrollment opens (the rest pass through). */
function aroundEnrollment(v: V, then: (commit: () => Promise<unknown>) => Promise<unknown>): () => boolean {
  const transaction = v.store.transaction.bind(v.store);
  let raced = false;
  v.store.transaction = ((fn: Parameters<typeof transaction>[0]) => {
    if (raced || !enrolling()) return transaction(fn);
    raced = true;
    return then(() => transaction(fn));
  }) as typeof v.store.transaction;
  return () => raced;
}

const enrolling = () => new Error().stack?.includes('enrollUnder') ?? false;

test(`${ENGINE}: a withdrawal committed between an enrollment's commit and its index update leaves the person out of the index`, async () => {
  const v = await veil();
  try {
    const { consent, who } = await given(v);
    const raced = aroundEnrollment(v, async (commit) => {
      const r = await commit();
      // The enrollment has committed; the withdrawal commits, and the follower applies it, before
      // the enrollment touches the index.
      assert.equal((await subjectRepository.templates(v.store.db, { subjectId: who })).length, 1);
      await v.consents.withdraw(operator, consent.id);
      await v.follower.catchUp();
      return r;
    });
    const r = await v.gallery.enroll(operator, {
      purpose: 'event-photos',
      consentId: consent.id,
      images: [face(OBAMA)],
    });
    assert.ok(raced(), 'the race ran');
    assert.equal(r.subjectId, who);
    assert.deepEqual(await subjectRepository.templates(v.store.db, { subjectId: who }), [], 'withdrawn in the store');
    assert.deepEqual(v.index.templatesOf(who), [], 'the enrollment put a withdrawn person back in the index');
    assert.equal(v.index.ownerOf(r.templates[0]!.templateId), undefined);
    await v.follower.catchUp();
    assert.deepEqual(v.index.templatesOf(who), []);
  } finally {
    await v.close();
  }
});

test(`${ENGINE}: an enrollment's index update does not put back a person whose withdrawal is in flight; a withdrawal that fails puts them back`, async () => {
  for (const outcome of ['commits', 'fails'] as const) {
    const v = await veil();
    try {
      const { consent, who } = await given(v);
      const held = () => !v.index.fence.current(who, Number.MAX_SAFE_INTEGER);
      // The withdrawal's transaction waits (once it holds the person) until the test lets it go.
      let open!: () => void;
      const gate = new Promise<void>((res) => (open = res));
      const transaction = v.store.transaction.bind(v.store);
      v.store.transaction = ((fn: Parameters<typeof transaction>[0]) =>
        held()
          ? gate.then(() => (outcome === 'fails' ? Promise.reject(new Error('store unavailable')) : transaction(fn)))
          : transaction(fn)) as typeof v.store.transaction;
      // After the enrollment's commit, the withdrawal starts and holds the person before the
      // enrollment reads them for the index: that read still sees the template.
      let withdrawal: Promise<unknown> | undefined;
      const vault = v.vault as TemplateVault;
      const read = vault.matchable.bind(vault);
      vault.matchable = async (...args: Parameters<TemplateVault['matchable']>) => {
        if (!withdrawal && args[1]?.subjectId === who && enrolling()) {
          withdrawal = v.consents.withdraw(operator, consent.id).catch((e: unknown) => e);
          while (!held()) await new Promise((res) => setImmediate(res));
          const rows = await read(...args);
          assert.equal(rows.length, 1, 'the read sees the template before the withdrawal commits');
          return rows;
        }
        return read(...args);
      };
      const r = await v.gallery.enroll(operator, {
        purpose: 'event-photos',
        consentId: consent.id,
        images: [face(OBAMA)],
      });
      assert.ok(withdrawal, 'the race ran');
      assert.deepEqual(v.index.templatesOf(who), [], 'a person being withdrawn was put back in the index');
      open();
      const settled = await withdrawal;
      vault.matchable = read;
      if (outcome === 'commits') {
        assert.ok(!(settled instanceof Error), String(settled));
        assert.deepEqual(v.index.templatesOf(who), [], 'withdrawn, and in the index');
      } else {
        assert.ok(settled instanceof Error && settled.message === 'store unavailable', String(settled));
        assert.deepEqual(v.index.templatesOf(who), [r.templates[0]!.templateId], 'the failed withdrawal puts back');
      }
      await v.follower.catchUp();
      assert.equal(v.index.templatesOf(who).length, outcome === 'commits' ? 0 : 1);
    } finally {
      await v.close();
    }
  }
});

// The other side of the same race: the withdrawal commits after the enrollment checked the consent
// but before its transaction. Nothing may be stored on a withdrawn consent (on PostgreSQL the consent
// row's lock also orders a withdrawal that runs alongside the enrollment's transaction).
test(`${ENGINE}: a withdrawal committed between an enrollment's consent check and its transaction refuses the enrollment`, async () => {
  const v = await veil();
  try {
    const { consent, who } = await given(v);
    const raced = aroundEnrollment(v, async (commit) => {
      await v.consents.withdraw(operator, consent.id);
      return commit();
    });
    await assert.rejects(
      v.gallery.enroll(operator, { purpose: 'event-photos', consentId: consent.id, images: [face(OBAMA)] }),
      (e: { code?: string }) => e.code === 'CONSENT_WITHDRAWN',
    );
    assert.ok(raced(), 'the race ran');
    assert.deepEqual(await subjectRepository.templates(v.store.db, { subjectId: who }), [], 'no template stored');
    assert.deepEqual(v.index.templatesOf(who), []);
  } finally {
    await v.close();
  }
});

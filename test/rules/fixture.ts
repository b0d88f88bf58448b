import { openVeil, type Veil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import type { Actor } from '../../src/auth/actor.js';
import { FakeAnalyzer, fakePhoto } from '../../support/fake-analyzer.js';
import { MemoryMailer } from '../../support/memory-mailer.js';
import { anyPurposeAdmin, keyActor } from '../../support/actors.js';
import { engineOptions, tempDir } from '../helpers.js';
import { isVeilError } from '../../src/errors.js';

export { fakePhoto, keyActor };
export const admin = anyPurposeAdmin;
export const NOTICE = 'We match your face against event photos to find the pictures you appear in.';
export const why = { justification: 'rule test' };

/** Veil on this run's database with the fake engine: fast, for one rule per test. */
export async function ruleVeil(
  env: Record<string, string> = {},
): Promise<{ v: Veil; clock: ManualClock; mail: MemoryMailer }> {
  const clock = new ManualClock('2026-06-01T10:00:00.000Z');
  const mail = new MemoryMailer();
  const v = await openVeil({
    ...(await engineOptions()),
    dataDir: tempDir('veil-rules-'),
    clock,
    engine: new FakeAnalyzer(),
    env,
    mailer: mail,
  });
  return { v, clock, mail };
}

/** The error code a call fails with, or 'OK'. */
export async function code(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'OK',
    (e) => (isVeilError(e) ? e.code : `untyped: ${String(e)}`),
  );
}

export async function consentPurpose(v: Veil, key: string, extra: Record<string, unknown> = {}) {
  return v.purposes.create(admin, {
    key,
    name: key,
    description: `Matching faces for ${key}, with consent.`,
    lawfulBasis: 'consent',
    ...extra,
  });
}

export async function legalPurpose(v: Veil, key: string) {
  return v.purposes.create(admin, {
    key,
    name: key,
    description: `Watchlist ${key} under a legal obligation.`,
    lawfulBasis: 'legal-obligation',
    art9Condition: 'substantial-public-interest',
    legalReference: 'Act 12 s.3',
  });
}

/** A person who consented to `purpose` and enrolled one photo; `email` links them to an address. */
export async function person(
  v: Veil,
  purpose: string,
  who: string,
  opts: { email?: string; actor?: Actor; subjectId?: string } = {},
) {
  const actor = opts.actor ?? admin;
  const { consent } = await v.consents.give(actor, {
    purpose,
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 'rules',
    ...(opts.email ? { contactEmail: opts.email } : {}),
    ...(opts.subjectId ? { subjectId: opts.subjectId } : {}),
  });
  const r = await v.gallery.enroll(actor, { purpose, consentId: consent.id, images: [fakePhoto(who)] });
  return { consent, subjectId: r.subjectId, templateId: r.templates[0]!.templateId };
}

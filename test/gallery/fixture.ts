import { FaceEngine } from '../../src/face/engine.js';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import { anyPurposeAdmin } from '../../support/actors.js';
import { engineOptions, tempDir } from '../helpers.js';

let shared: Promise<FaceEngine> | undefined;
/** One loaded engine per test process: model loading is a per-process cost. */
export function engine(): Promise<FaceEngine> {
  return (shared ??= FaceEngine.create());
}

/** An operator's admin key on every purpose: for rule tests where authorization is not the rule under test. */
export const operator = anyPurposeAdmin;

export async function veil(): Promise<Veil & { clock: ManualClock; databaseUrl?: string }> {
  const clock = new ManualClock();
  const db = await engineOptions();
  const v = await openVeil({
    ...db,
    dataDir: tempDir('veil-gallery-'),
    clock,
    engine: await engine(),
    env: {},
    controller: 'Test Controller',
  });
  return Object.assign(v, { clock, ...db });
}

export const NOTICE =
  'We match your face against event photos to find the pictures you appear in. Kept one year; withdraw any time in the portal.';

export async function eventPurpose(v: Veil, key = 'event-photos') {
  return v.purposes.create(operator, {
    key,
    name: 'Event photos',
    description: 'Find the photos of you taken at our events, with your explicit consent.',
    lawfulBasis: 'consent',
    retention: 'P1Y',
    recipients: ['Event organiser'],
  });
}

/** A consent to the purpose, recorded through the API by the operator (a new subject with it). */
export async function giveConsent(v: Veil, purpose = 'event-photos') {
  const { consent } = await v.consents.give(operator, {
    purpose,
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 'test',
  });
  return consent;
}

export async function consentAndEnroll(v: Veil, purpose: string, images: Uint8Array[]) {
  const consent = await giveConsent(v, purpose);
  const r = await v.gallery.enroll(operator, { purpose, consentId: consent.id, images });
  return { consent, ...r };
}

import { openVeil, type Veil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import { SmtpMailer } from '../../src/rights/mailer.js';
import { engine, NOTICE, operator } from '../gallery/fixture.js';
import { engineOptions, tempDir } from '../helpers.js';
import { startSmtp } from '../../support/smtp.js';

export async function rightsVeil(): Promise<{
  v: Veil;
  clock: ManualClock;
  smtp: Awaited<ReturnType<typeof startSmtp>>;
  done: () => Promise<void>;
}> {
  const smtp = await startSmtp();
  const clock = new ManualClock('2026-01-31T10:00:00.000Z');
  const v = await openVeil({
    ...(await engineOptions()),
    dataDir: tempDir('veil-rights-'),
    clock,
    engine: await engine(),
    env: {},
    controller: 'Test Controller',
    mailer: new SmtpMailer(smtp.url, 'privacy@test.example'),
  });
  await v.purposes.create(operator, {
    key: 'events',
    name: 'Event photos',
    description: 'Find the photos of you taken at our events, with your explicit consent.',
    lawfulBasis: 'consent',
    recipients: ['Organiser'],
  });
  return {
    v,
    clock,
    smtp,
    done: async () => {
      await v.close();
      await smtp.close();
    },
  };
}

export async function enrollPerson(v: Veil, images: Uint8Array[], email?: string) {
  const { consent } = await v.consents.give(operator, {
    purpose: 'events',
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'portal',
    collector: 'portal',
    ...(email ? { contactEmail: email } : {}),
  });
  const r = await v.gallery.enroll(operator, { purpose: 'events', consentId: consent.id, images });
  return { consent, subjectId: r.subjectId, templates: r.templates };
}

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { actors } from '../../src/auth/actor.js';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { EnginePool } from '../../src/face/engine.pool.js';
import { SmtpMailer } from '../../src/rights/mailer.js';
import { registerWeb, WEB_DIST } from '../../src/web/serve-web.js';
import { VeilClient } from '../../src/client/client.js';
import { verifyCertificate } from '../../src/rights/certificate.js';
import { FACES, REPO, engineOptions, face, tempDir } from '../helpers.js';
import { startSmtp } from '../../support/smtp.js';
import { anyPurposeAdmin } from '../../support/actors.js';

// End to end in Debian's Chromium (installed by .ci/run), never a downloaded browser.
const CHROMIUM = process.env['VEIL_CHROMIUM'] ?? '/usr/bin/chromium';
const SHOTS = join(REPO, 'test-results');
const img = (p: string) => join(FACES, p);

let veil: Veil;
let pool: EnginePool;
let app: FastifyInstance;
let base: string;
let smtp: Awaited<ReturnType<typeof startSmtp>>;
let browser: Browser;
let admin: VeilClient;
let operatorKey: string;
let dpoKey: string;
/** A record of the same person made at the front desk, on paper, with no email: only a face can find it. */
let pressSubject: string;

before(async () => {
  if (!existsSync(join(WEB_DIST, 'index.html')))
    execFileSync('npm', ['run', 'build:web'], { cwd: REPO, stdio: 'inherit' });
  mkdirSync(SHOTS, { recursive: true });
  smtp = await startSmtp();
  pool = await EnginePool.create({ size: 1 });
  veil = await openVeil({
    ...(await engineOptions()),
    dataDir: tempDir('veil-web-'),
    engine: pool,
    env: {},
    controller: 'Acme Events',
    mailer: new SmtpMailer(smtp.url, 'privacy@acme.example'),
  });
  app = await buildApp({ services: veil.services, extra: registerWeb });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  admin = new VeilClient(
    base,
    (await veil.apiKeys.create(actors.system('test'), { name: 'admin', role: 'admin', purposes: ['*'] })).token,
  );
  await admin.createPurpose({
    key: 'events',
    name: 'Event photos',
    description: 'Find the photos of you taken at our events, with your explicit consent.',
    lawfulBasis: 'consent',
    retention: 'P1Y',
    recipients: ['Event photographer'],
  });
  await admin.createPurpose({
    key: 'press',
    name: 'Press accreditation',
    description: 'Recognise accredited press at the entrance.',
    lawfulBasis: 'consent',
    retention: 'P1Y',
  });
  const { consent } = await admin.giveConsent({
    purpose: 'press',
    noticeText: 'Press accreditation: your face is matched at the entrance. Withdraw at any time.',
    noticeVersion: '1',
    method: 'paper',
    collector: 'front desk',
  });
  pressSubject = (
    await admin.enroll({
      purpose: 'press',
      consentId: consent.id,
      images: [face('face_recognition/obama/ex_obama-720p.jpg')],
    })
  ).subjectId;
  operatorKey = (await admin.createKey({ name: 'op', role: 'operator', purposes: ['events'] })).token;
  dpoKey = (await admin.createKey({ name: 'dpo', role: 'dpo', purposes: ['*'] })).token;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await pool?.close();
  await veil?.close();
  await smtp?.close();
});

const AXE = readFileSync(join(REPO, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

/** Serious or critical accessibility violations on the page as it stands (axe-core, WCAG 2 A/AA rules). */
async function axe(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, so the page's CSP (script-src 'self') does not block it.
  await page.evaluate(AXE);
  const found = (await page.evaluate(
    `axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'], resultTypes: ['violations'] })
      .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })))`,
  )) as { id: string; impact: string; nodes: string[] }[];
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).join(', ')}`);
}

/** Screenshot of every page in test-results/, each also checked by axe: 0 serious or critical violations. */
async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  assert.deepEqual(await axe(page), [], `accessibility of ${name}`);
}

/** Errors the browser logs (a CSP refusal, a failed request) and responses that failed. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    const provoked = /^Failed to load resource/.test(m.text()) && /\/v1\//.test(m.location().url);
    if (m.type() === 'error' && !provoked) problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('response', (r) => {
    // 4xx answers the test provokes on purpose (a wrong code, a refused action) come from /v1.
    if (r.status() >= 400 && !new URL(r.url()).pathname.startsWith('/v1/')) problems.push(`${r.status()} ${r.url()}`);
  });
  return problems;
}

async function consoleLogin(page: Page, key: string) {
  await page.goto(`${base}/#/console`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
}

async function identify(page: Page, probe: string): Promise<string> {
  await page.goto(`${base}/#/console/identify`);
  await page.getByLabel('Justification (if no case reference)').fill('find the photos of a guest');
  await page.getByLabel('Probe photo (never stored)').setInputFiles(probe);
  const answered = page.waitForResponse((r) => r.url().endsWith('/v1/identify'));
  await page.getByRole('button', { name: 'Search' }).click();
  await answered;
  const result = page.getByTestId('identify-result');
  await result.waitFor();
  return (await result.textContent()) ?? '';
}

/** The text of the one alert inside `scope` (a page, or a part of one). */
async function alertText(scope: Page | Locator): Promise<string> {
  const alert = scope.getByRole('alert');
  await alert.waitFor();
  return (await alert.textContent()) ?? '';
}

/** Waits until the rights queue shows exactly n rows. */
async function rowCount(page: Page, n: number) {
  const rows = page.getByTestId('request-row');
  await rows.nth(n - 1).waitFor();
  await rows.nth(n).waitFor({ state: 'detached' });
}

test('a person proves their email and consents, is found, sees their data, erases themselves; the DPO reviews the search by face', async () => {
  const requests: string[] = [];
  const person = await browser.newPage();
  const personProblems = watch(person);
  person.on('request', (r) => requests.push(r.url()));
  await person.goto(`${base}/#/`);
  await person.getByRole('heading', { name: 'Your face, your rights' }).waitFor();
  await person.getByTestId('purpose-events').waitFor();
  assert.equal(await person.locator('header a[href^="#/console"]').count(), 0, 'no console link for the public');
  await shot(person, '01-portal-home');
  await person.getByTestId('purpose-events').getByRole('link', { name: 'Read the notice and join' }).click();
  await person.getByTestId('notice').waitFor();
  const notice = (await person.getByTestId('notice').textContent()) ?? '';
  assert.match(notice, /Acme Events/);
  assert.match(notice, /1 year after your last interaction/);
  assert.match(notice, /Event photographer/);

  // Step 1: the email address is proven before any face is taken.
  assert.equal(await person.getByRole('checkbox').count(), 0, 'no consent box before the address is proven');
  await person.getByLabel('Your email address').fill('ada@example.org');
  await shot(person, '02-portal-email');
  await person.getByRole('button', { name: 'Send me a code' }).click();
  await person.getByText('We sent a 6-digit code to ada@example.org').waitFor();

  // Step 2: code, the unticked consent box, the selfie.
  const box = person.getByRole('checkbox');
  assert.equal(await box.isChecked(), false, 'consent is never pre-ticked');
  const code = smtp.codeFor('ada@example.org');
  await person.getByLabel('Code from the email').fill(code === '000000' ? '111111' : '000000');
  await person.getByLabel('Your photo').setInputFiles(img('face_recognition/obama/test_obama.jpg'));
  await person.getByRole('button', { name: 'Consent and enroll' }).click();
  assert.match(await alertText(person), /consent is never assumed/);
  await box.check();
  await person.getByRole('button', { name: 'Consent and enroll' }).click();
  await person.getByText('CODE_INVALID').waitFor();
  assert.match(await alertText(person), /Wrong code/);
  await person.getByLabel('Code from the email').fill(code);
  await shot(person, '03-portal-consent');
  await person.getByRole('button', { name: 'Consent and enroll' }).click();
  await person.getByText('Thank you. Your consent is recorded.').waitFor();
  const donePage = (await person.textContent('main')) ?? '';
  // Quality in words, and what happens next, instead of pixel counts.
  assert.match((await person.getByTestId('quality').textContent()) ?? '', /good for matching|usable|hard to match/);
  assert.doesNotMatch(donePage, /pixels|P1Y/);
  assert.match((await person.getByTestId('next').textContent()) ?? '', /What happens next: .*kept for 1 year/);
  assert.match(donePage, /withdraw at any time/);
  assert.doesNotMatch(donePage, /enrolled/i, 'the page does not claim the face was enrolled');
  const receiptDl = person.waitForEvent('download');
  await person.getByRole('button', { name: 'Download your consent receipt' }).click();
  const receipt = JSON.parse(readFileSync(await (await receiptDl).path(), 'utf8'));
  assert.equal(receipt.collectionMethod, 'portal');
  await shot(person, '04-portal-consent-recorded');

  const operator = await browser.newPage();
  await consoleLogin(operator, operatorKey);
  const found = await identify(operator, img('face_recognition/obama/test_obama2.jpg'));
  assert.match(found, /Match/);
  assert.match(found, new RegExp(receipt.piiPrincipalId));
  await shot(operator, '05-console-identify');

  // "What do you hold about me?": email, code from the real SMTP server, and (optionally) a selfie.
  await person.goto(`${base}/#/me`);
  await person.getByLabel('Your email address').fill('ada@example.org');
  await person.getByRole('button', { name: 'Send me a code' }).click();
  await person.getByText('We sent a 6-digit code').waitFor();
  await person.getByLabel('Code from the email').fill(smtp.codeFor('ada@example.org'));
  await person.getByLabel('Your photo (optional)').setInputFiles(img('face_recognition/obama/ex_obama-480p.jpg'));
  await shot(person, '06-portal-access-verify');
  await person.getByRole('button', { name: 'Show my data' }).click();
  await person.getByTestId('subject').waitFor();
  // Only what the proven email links is shown now: the press record the selfie finds waits for the DPO.
  assert.equal(await person.getByTestId('subject').count(), 1);
  const shown = (await person.getByTestId('subject').textContent()) ?? '';
  assert.match(shown, /Event photos/);
  assert.doesNotMatch(shown, /Press accreditation/);
  // Recipients by name, durations in words: never a key id or an ISO duration.
  assert.match(shown, /op \(operator\)/);
  assert.match(shown, /kept for 1 year after your last interaction/);
  assert.doesNotMatch(shown, /api-key:|key_|P1Y/);
  assert.match(
    (await person.getByTestId('review-pending').textContent()) ?? '',
    /search by your photo is checked by our data protection officer/,
  );
  await shot(person, '07-portal-my-data');
  const zipDl = person.waitForEvent('download');
  await person.getByRole('button', { name: 'Download everything (ZIP)' }).click();
  const zip = unzipSync(new Uint8Array(readFileSync(await (await zipDl).path())));
  const manifest = JSON.parse(strFromU8(zip['manifest.json']!));
  assert.deepEqual(
    manifest.subjects.map((s: { subjectId: string }) => s.subjectId),
    [receipt.piiPrincipalId],
  );
  assert.equal(manifest.subjects[0].consents[0].receipt.receiptId, receipt.receiptId);
  assert.equal(manifest.subjects[0].disclosures.length, 1);

  // Every action asks in the page first (no native confirm()): cancel, then confirm.
  let dialogs = 0;
  person.on('dialog', (d) => {
    dialogs++;
    void d.dismiss();
  });
  await person.getByRole('button', { name: 'Erase me everywhere' }).click();
  await person.getByTestId('confirm').getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await person.getByTestId('confirm').count(), 0);
  await person.getByRole('button', { name: 'Erase me everywhere' }).click();
  await shot(person, '07b-portal-confirm-erasure');
  const acted = person.waitForResponse((r) => r.url().endsWith('/actions'));
  await person.getByTestId('confirm').getByRole('button', { name: 'Yes, continue' }).click();
  const erasureId = ((await (await acted).json()) as { requestId: string }).requestId;
  await person.getByText('Done.').waitFor();
  assert.match(
    (await person.getByTestId('action-review-pending').textContent()) ?? '',
    /done for what is linked to your email address/,
  );
  const certDl = person.waitForEvent('download');
  await person.getByRole('button', { name: 'Download the erasure certificate' }).click();
  const cert = JSON.parse(readFileSync(await (await certDl).path(), 'utf8'));
  assert.deepEqual(verifyCertificate(cert, veil.auditLog.publicKeyPem), []);
  assert.match((await person.getByTestId('next').textContent()) ?? '', /What happens next/);
  assert.equal(dialogs, 0, 'no native dialog');
  await shot(person, '08-portal-erased');

  assert.match(await identify(operator, img('face_recognition/obama/test_obama2.jpg')), /No match/);
  assert.ok(
    requests.every((u) => u.startsWith(base) || u.startsWith('blob:') || u.startsWith('data:')),
    `no third-party requests: ${requests.filter((u) => !u.startsWith(base)).join(', ')}`,
  );
  // The press record is still there: a face match alone acts on nothing.
  const pressProbe = { purpose: 'press', image: face('face_recognition/obama/test_obama2.jpg'), justification: 'x' };
  assert.equal((await admin.identify(pressProbe)).decision, 'match');

  // Someone else sends this face with their own address: the match waits for review, it cannot be fulfilled.
  const pub = new VeilClient(base);
  const other = await pub.submitRequest({ kind: 'erasure', email: 'mallory@example.net' });
  await pub.verifyRequest(other.requestId, smtp.codeFor('mallory@example.net'), [
    face('face_recognition/obama/ex_obama-480p.jpg'),
  ]);

  const dpo = await browser.newPage();
  const dpoProblems = watch(dpo);
  await consoleLogin(dpo, dpoKey);
  assert.equal(await dpo.getByTestId('awaiting-review').textContent(), '3');
  await shot(dpo, '09-console-dashboard');
  await dpo.goto(`${base}/#/console/rights`);
  await dpo.getByTestId('request-row').first().waitFor();
  const rows = await dpo.getByTestId('request-row').allTextContents();
  assert.ok(
    rows.some((r) => /Access/.test(r) && /in_progress/.test(r) && /Review/.test(r)),
    rows.join('\n'),
  );
  assert.equal(await dpo.getByTestId('review-badge').count(), 3, rows.join('\n'));
  const filtered = dpo.waitForResponse(
    (r) => r.url().includes('/v1/rights/requests?') && r.url().includes('review=true'),
  );
  await dpo.getByLabel('Only requests waiting for review').check();
  await filtered;
  await rowCount(dpo, 3);

  // Fulfil asks in the page first, is refused while a review is pending, and the page says why.
  const otherRow = dpo.getByTestId('request-row').filter({ hasText: other.requestId });
  await otherRow.getByRole('button', { name: 'Fulfil' }).click();
  await otherRow.getByText('Carry out this erasure request now?').waitFor();
  await otherRow.getByRole('button', { name: 'Confirm' }).click();
  assert.match(await alertText(otherRow), /review.*\(INVALID_STATE\)/);

  const panel = dpo.locator(`[data-testid="review"][data-request="${erasureId}"]`);
  const evidence = (await panel.getByTestId('review-evidence').textContent()) ?? '';
  assert.match(evidence, new RegExp(pressSubject));
  assert.match(evidence, /found by the selfie only/);
  assert.match(evidence, /similarity 0\.\d{4}/);
  assert.match(evidence, /liveness: passed \(score 0\.\d{4}/);
  assert.doesNotMatch(evidence, new RegExp(receipt.piiPrincipalId), 'the email-linked subject needs no review');
  await shot(dpo, '10-console-rights-review');
  await panel.getByRole('button', { name: 'Approve' }).click();
  assert.match(await alertText(panel), /reason for your decision/);
  await panel.getByLabel('Reason for your decision').fill('Same person as the verified requester; checked the photos.');
  await panel.getByRole('button', { name: 'Approve' }).click();
  await dpo.getByText(`Review of ${erasureId} approved; the request is now fulfilled.`).waitFor();
  const rejected = dpo.locator(`[data-testid="review"][data-request="${other.requestId}"]`);
  await rejected.getByLabel('Reason for your decision').fill('The address does not belong to the person in the photo.');
  await rejected.getByRole('button', { name: 'Reject' }).click();
  await dpo.getByText(`Review of ${other.requestId} rejected`).waitFor();
  await rowCount(dpo, 1); // only the access request still waits
  await dpo.getByLabel('Only requests waiting for review').uncheck();
  await dpo.getByTestId('request-row').filter({ hasText: erasureId }).getByText('review approved').waitFor();
  await shot(dpo, '11-console-rights-decided');
  assert.equal((await admin.identify(pressProbe)).decision, 'no-match', 'the approved match is erased');

  await dpo.goto(`${base}/#/console/audit`);
  await dpo.getByRole('button', { name: 'Verify now' }).click();
  await dpo.getByText(/^OK: \d+ entries/).waitFor();
  await shot(dpo, '12-console-audit');
  await dpo.goto(`${base}/#/console/purposes`);
  await dpo.getByRole('cell', { name: 'events', exact: true }).waitFor();
  await shot(dpo, '13-console-purposes');
  // The browser logged no error (a CSP refusal, a 404 for an icon or an asset) on any of these pages.
  assert.deepEqual(personProblems, []);
  assert.deepEqual(dpoProblems, []);
});

test('the portal works on a phone-sized screen and in French', async () => {
  const ctx = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: 'fr-FR' });
  const page = await ctx.newPage();
  const noOverflow = async () =>
    assert.equal(
      await page.evaluate('document.documentElement.scrollWidth > window.innerWidth + 1'),
      false,
      'no horizontal scrolling at 375 px',
    );
  await page.goto(`${base}/#/`);
  await page.getByRole('heading', { name: 'Votre visage, vos droits' }).waitFor();
  await page.getByTestId('purpose-events').waitFor();
  await noOverflow();
  assert.equal(await page.evaluate('document.documentElement.lang'), 'fr');
  await page.getByTestId('purpose-events').getByRole('link', { name: "Lire l'information et participer" }).click();
  await page.getByTestId('notice').waitFor();
  assert.match((await page.getByTestId('notice').textContent()) ?? '', /Responsable du traitement/);
  await shot(page, '14-portal-phone-fr');
  await page.getByLabel('Votre adresse e-mail').fill('zoe@example.org');
  await page.getByRole('button', { name: 'Envoyez-moi un code' }).click();
  await page.getByText('Nous avons envoyé un code à 6 chiffres à zoe@example.org').waitFor();
  assert.match(smtp.codeFor('zoe@example.org'), /^\d{6}$/);
  await noOverflow();
  // Keyboard: the consent checkbox is reachable and operable without a mouse.
  await page.getByRole('checkbox').focus();
  await page.keyboard.press('Space');
  assert.equal(await page.getByRole('checkbox').isChecked(), true);
  await shot(page, '15-portal-phone-fr-code');
  await ctx.close();
});

test('console pages: identify draws every face, subjects list and page with thumbnails, dashboard charts, orders, breaches, French', async () => {
  await admin.createPurpose({
    key: 'staff',
    name: 'Staff entrance',
    description: 'Recognise staff at the entrance, with their consent; their enrollment photo is kept to compare.',
    lawfulBasis: 'consent',
    retention: 'P6M',
    keepSourceImages: true,
  });
  const enrolled: Record<string, string> = {};
  for (const [who, photo, email] of [
    ['biden', 'face_recognition/biden/test_biden.jpg', 'joe@example.org'],
    ['obama', 'face_recognition/obama/ex_obama-720p.jpg', 'barack@example.org'],
  ] as const) {
    const { consent } = await admin.giveConsent({
      purpose: 'staff',
      noticeText: 'Staff entrance: your face is matched at the door. Withdraw at any time.',
      noticeVersion: '1',
      method: 'paper',
      collector: 'HR',
      contactEmail: email,
    });
    enrolled[who] = (await admin.enroll({ purpose: 'staff', consentId: consent.id, images: [face(photo)] })).subjectId;
  }
  const deskKey = (await admin.createKey({ name: 'front desk', role: 'operator', purposes: ['staff'] })).token;

  // Identify: every face in the probe is boxed and numbered, each with its result.
  const op = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const opProblems = watch(op);
  await consoleLogin(op, deskKey);
  await op.goto(`${base}/#/console/identify`);
  await op.getByLabel('Justification (if no case reference)').fill('who came in together');
  await op
    .getByLabel('Probe photo (never stored)')
    .setInputFiles(img('face_recognition/_multi_face/knn_test_obama_and_biden.jpg'));
  await op.getByRole('button', { name: 'Search' }).click();
  const result = op.getByTestId('identify-result');
  await result.waitFor();
  const boxes = await result.getByTestId('face-box').count();
  assert.ok(boxes >= 2, `${boxes} faces boxed`);
  assert.equal(await result.getByTestId('face-result').count(), boxes);
  const facts = (await result.getByTestId('decision-facts').textContent()) ?? '';
  assert.match(facts, /Decision threshold0\.\d+/);
  assert.match(facts, /Gallery searched2 templates/);
  assert.match((await result.textContent()) ?? '', /Estimated false-match rate: /);
  const candidate = result.getByTestId('candidate').first();
  await candidate.locator('img.thumb').waitFor(); // the kept enrollment photo, decrypted for this key
  const href = (await candidate.getByRole('link').getAttribute('href')) ?? '';
  assert.ok(
    Object.values(enrolled).some((id) => href.endsWith(id)),
    href,
  );
  await shot(op, '16-console-identify-faces');

  // The candidate links to the subject page: purposes with the photo, consents and history, templates'
  // quality, and the search that just returned them.
  await candidate.getByRole('link').click();
  await op.getByTestId('subject-templates').waitFor();
  await op.getByTestId('subject-purpose').locator('img.thumb').waitFor();
  assert.match((await op.getByTestId('subject-consents').textContent()) ?? '', /given/);
  assert.match((await op.getByTestId('subject-templates').textContent()) ?? '', /good|fair|poor/);
  assert.match((await op.getByTestId('subject-searches').textContent()) ?? '', /who came in together/);
  await shot(op, '17-console-subject');
  assert.deepEqual(opProblems, []);

  // The subject list, searched by contact address and filtered by purpose, as the DPO sees it.
  const dpo = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const dpoProblems = watch(dpo);
  await consoleLogin(dpo, dpoKey);
  await dpo.goto(`${base}/#/console/subjects`);
  await dpo.getByTestId('subject-row').first().waitFor();
  await shot(dpo, '18-console-subjects');
  await dpo.getByLabel('Purpose').selectOption('staff');
  await dpo.getByRole('button', { name: 'Search' }).click();
  await dpo.getByTestId('subjects-total').getByText('2 subjects').waitFor();
  await dpo.getByLabel('Subject, consent, source reference or email').fill('joe@example.org');
  await dpo.getByRole('button', { name: 'Search' }).click();
  await dpo.getByTestId('subjects-total').getByText('1 subject').waitFor();
  assert.match((await dpo.getByTestId('subject-row').textContent()) ?? '', new RegExp(enrolled['biden']!));
  // A suspended purpose is shown as such, with its key, and cannot be chosen for processing.
  await veil.purposes.setSuspended(anyPurposeAdmin, 'press', true, 'under review');
  await dpo.goto(`${base}/#/console/media`);
  const press = dpo.locator('option[value="press"]');
  await press.waitFor({ state: 'attached' });
  assert.match((await press.textContent()) ?? '', /Press accreditation \(press\) — suspended/);
  assert.equal(await press.isDisabled(), true);
  await dpo.goto(`${base}/#/console/subjects`);
  await dpo.getByLabel('Subject, consent, source reference or email').fill('joe@example.org');
  await dpo.getByRole('button', { name: 'Search' }).click();
  await dpo.getByTestId('subjects-total').getByText('1 subject').waitFor();

  // Restriction from the subject page: asked in the page, and the outcome said.
  await dpo.getByTestId('subject-row').getByRole('link').click();
  await dpo.getByTestId('dpo-actions').getByRole('button', { name: 'Restrict processing' }).click();
  await dpo.getByLabel('Reason (kept in the audit log)').fill('The person disputes the accuracy of the match.');
  await dpo.getByTestId('dpo-actions').getByRole('button', { name: 'Confirm' }).click();
  await dpo.getByText('Restricted: no longer matched.').waitFor();
  await shot(dpo, '19-console-subject-restricted');

  // Dashboard: real charts with axes and a value on hover.
  await dpo.goto(`${base}/#/console/dashboard`);
  const chart = dpo.getByTestId('chart-searches');
  await chart.locator('rect.bar').first().waitFor();
  assert.match((await chart.textContent()) ?? '', /Day/);
  await chart.locator('rect.bar').last().hover();
  assert.match((await chart.locator('.tip').textContent()) ?? '', /\d+ search/);
  await shot(dpo, '20-console-dashboard-charts');

  // Orders: record one, act on it, download the evidence bundle.
  await dpo.getByTestId('orders-overdue').click();
  await dpo.getByRole('heading', { name: 'Orders', exact: true }).waitFor();
  await dpo.getByLabel('Authority').fill('CNIL');
  await dpo.getByLabel('Their reference').fill('MED-2026-042');
  await dpo.getByLabel('Detail').fill('Send the record of processing and the DPIA.');
  await dpo.getByRole('button', { name: 'Record the order' }).click();
  const order = dpo.getByTestId('order').filter({ hasText: 'MED-2026-042' });
  await order.waitFor();
  assert.match((await order.getByTestId('order-clock').textContent()) ?? '', /days left/);
  await order.getByLabel('What was done').fill('Records sent by registered mail.');
  await order.getByRole('button', { name: 'Record the action' }).click();
  await dpo.getByText('Answer sent recorded on order MED-2026-042.').waitFor();
  const bundle = dpo.waitForEvent('download');
  await order.getByRole('button', { name: 'Download the evidence bundle' }).click();
  assert.ok(Object.keys(unzipSync(new Uint8Array(readFileSync(await (await bundle).path())))).length > 0);
  await shot(dpo, '21-console-orders');

  // Breaches: the 72-hour clock runs from discovery; notifying is asked in the page and stops it.
  await dpo.goto(`${base}/#/console/breaches`);
  await dpo.getByLabel('What happened').fill('A laptop with an unencrypted export was stolen.');
  await dpo.getByLabel('Data concerned').fill('templates, contact addresses');
  await dpo.getByLabel('People concerned (approx.)').fill('40');
  await dpo.getByLabel('Records concerned (approx.)').fill('80');
  await dpo.getByLabel('Likely consequences').fill('Re-identification of staff.');
  await dpo.getByLabel('Measures taken').fill('Keys rotated, staff informed.');
  await dpo.getByRole('button', { name: 'Record the breach' }).click();
  const breach = dpo.getByTestId('breach');
  await breach.waitFor();
  assert.match((await breach.getByTestId('breach-clock').textContent()) ?? '', /^(7[0-2]|69) h left to notify$/);
  await shot(dpo, '22-console-breaches');
  await breach.getByRole('button', { name: 'Record the notification' }).click();
  await breach.getByLabel('Notification reference').fill('CNIL-NOTIF-7');
  await breach.getByRole('button', { name: 'Confirm' }).click();
  await dpo.getByText('Notification recorded; the clock stops.').waitFor();
  await breach.getByText('notified', { exact: true }).waitFor();

  // The console in French.
  await dpo.getByRole('button', { name: 'Français' }).click();
  await dpo.goto(`${base}/#/console/subjects`);
  await dpo.getByRole('link', { name: 'Tableau de bord' }).waitFor();
  await dpo.getByTestId('subject-row').first().waitFor();
  await shot(dpo, '23-console-subjects-fr');
  await dpo.getByRole('button', { name: 'English' }).click();
  assert.deepEqual(dpoProblems, []);
});

test('the API docs load under the CSP, and the favicon is served', async () => {
  const page = await browser.newPage();
  const problems = watch(page);
  await page.goto(`${base}/docs`);
  await page.locator('.swagger-ui .info').waitFor();
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(SHOTS, '24-api-docs.png'), fullPage: false });
  assert.deepEqual(problems, []);
  for (const icon of ['/favicon.ico', '/favicon.svg']) {
    const r = await fetch(`${base}${icon}`);
    assert.equal(r.status, 200, icon);
  }
});

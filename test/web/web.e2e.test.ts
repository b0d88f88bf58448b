import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { EnginePool } from '../../src/face/engine.pool.js';
import { SmtpMailer } from '../../src/rights/mailer.js';
import { registerWeb, WEB_DIST } from '../../src/web/serve-web.js';
import { VeilClient } from '../../src/client/client.js';
import { verifyCertificate } from '../../src/rights/certificate.js';
import { FACES, REPO, engineOptions, tempDir } from '../helpers.js';
import { startSmtp } from '../support/smtp.js';

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
let operatorKey: string;
let dpoKey: string;

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
  app = await buildApp({ veil, engine: pool, extra: registerWeb });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  const admin = new VeilClient(
    base,
    (await veil.apiKeys.create({ name: 'admin', role: 'admin', purposes: ['*'] }, { kind: 'system', id: 'test' }))
      .token,
  );
  await admin.createPurpose({
    key: 'events',
    name: 'Event photos',
    description: 'Find the photos of you taken at our events, with your explicit consent.',
    lawfulBasis: 'consent',
    retention: 'P1Y',
    recipients: ['Event photographer'],
  });
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

async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
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

test('a person consents and enrolls, is found, sees their data, erases themselves; the operator then finds nothing', async () => {
  const requests: string[] = [];
  const person = await browser.newPage();
  person.on('request', (r) => requests.push(r.url()));
  await person.goto(`${base}/#/`);
  await person.getByRole('heading', { name: 'Your face, your rights' }).waitFor();
  await shot(person, '01-portal-home');
  await person.getByRole('link', { name: 'Read the notice and join' }).click();
  await person.getByTestId('notice').waitFor();
  const notice = (await person.getByTestId('notice').textContent()) ?? '';
  assert.match(notice, /Acme Events/);
  assert.match(notice, /1 year after your last interaction/);
  assert.match(notice, /Event photographer/);
  const box = person.getByRole('checkbox');
  assert.equal(await box.isChecked(), false, 'consent is never pre-ticked');
  await person.getByLabel('Your photo').setInputFiles(img('face_recognition/obama/test_obama.jpg'));
  await person.getByRole('button', { name: 'Consent and enroll' }).click();
  await person.getByRole('alert').waitFor();
  assert.match((await person.getByRole('alert').textContent()) ?? '', /consent is never assumed/);
  await box.check();
  await person.getByLabel('Email (optional, to exercise your rights later)').fill('ada@example.org');
  await shot(person, '02-portal-consent');
  await person.getByRole('button', { name: 'Consent and enroll' }).click();
  await person.getByText('You are enrolled.').waitFor();
  assert.match((await person.textContent('main')) ?? '', /pixels tall/);
  const receiptDl = person.waitForEvent('download');
  await person.getByRole('button', { name: 'Download your consent receipt' }).click();
  const receipt = JSON.parse(readFileSync(await (await receiptDl).path(), 'utf8'));
  assert.equal(receipt.collectionMethod, 'portal');
  await shot(person, '03-portal-enrolled');

  const operator = await browser.newPage();
  await consoleLogin(operator, operatorKey);
  const found = await identify(operator, img('face_recognition/obama/test_obama2.jpg'));
  assert.match(found, /Match/);
  assert.match(found, new RegExp(receipt.piiPrincipalId));
  await shot(operator, '04-console-identify');

  // "What do you hold about me?": email, code from the real SMTP server, selfie.
  await person.goto(`${base}/#/me`);
  await person.getByLabel('Email').fill('ada@example.org');
  await person.getByRole('button', { name: 'Send me a code' }).click();
  await person.getByText('We sent a 6-digit code').waitFor();
  await person.getByLabel('Code from the email').fill(smtp.codeFor('ada@example.org'));
  await person.getByLabel('Your photo').setInputFiles(img('face_recognition/obama/test_obama3.jpg'));
  await person.getByRole('button', { name: 'Show my data' }).click();
  await person.getByTestId('subject').waitFor();
  const shown = (await person.getByTestId('subject').textContent()) ?? '';
  assert.match(shown, /Event photos/);
  assert.match(shown, /find the photos of a guest|api-key/);
  await shot(person, '05-portal-my-data');
  const zipDl = person.waitForEvent('download');
  await person.getByRole('button', { name: 'Download everything (ZIP)' }).click();
  const zip = unzipSync(new Uint8Array(readFileSync(await (await zipDl).path())));
  const manifest = JSON.parse(strFromU8(zip['manifest.json']!));
  assert.equal(manifest.subjects[0].subjectId, receipt.piiPrincipalId);
  assert.equal(manifest.subjects[0].consents[0].receipt.receiptId, receipt.receiptId);
  assert.equal(manifest.subjects[0].disclosures.length, 1);

  person.once('dialog', (d) => void d.accept());
  const certDl = person.waitForEvent('download');
  await person.getByRole('button', { name: 'Erase me everywhere' }).click();
  await person.getByText('Done.').waitFor();
  await person.getByRole('button', { name: 'Download the erasure certificate' }).click();
  const cert = JSON.parse(readFileSync(await (await certDl).path(), 'utf8'));
  assert.deepEqual(verifyCertificate(cert, veil.audit.publicKeyPem), []);
  await shot(person, '06-portal-erased');

  assert.match(await identify(operator, img('face_recognition/obama/test_obama2.jpg')), /No match/);
  assert.ok(
    requests.every((u) => u.startsWith(base) || u.startsWith('blob:') || u.startsWith('data:')),
    `no third-party requests: ${requests.filter((u) => !u.startsWith(base)).join(', ')}`,
  );

  const dpo = await browser.newPage();
  await consoleLogin(dpo, dpoKey);
  await shot(dpo, '07-console-dashboard');
  await dpo.goto(`${base}/#/console/rights`);
  await dpo.getByTestId('request-row').first().waitFor();
  const rows = await dpo.getByTestId('request-row').allTextContents();
  assert.ok(
    rows.some((r) => /access/.test(r) && /fulfilled/.test(r) && /on time/.test(r)),
    rows.join('\n'),
  );
  assert.ok(
    rows.some((r) => /erasure/.test(r) && /fulfilled/.test(r)),
    rows.join('\n'),
  );
  await shot(dpo, '08-console-rights');
  await dpo.goto(`${base}/#/console/audit`);
  await dpo.getByRole('button', { name: 'Verify now' }).click();
  await dpo.getByText(/^OK: \d+ entries/).waitFor();
  await shot(dpo, '09-console-audit');
  await dpo.goto(`${base}/#/console/purposes`);
  await dpo.getByRole('cell', { name: 'events', exact: true }).waitFor();
  await shot(dpo, '10-console-purposes');
});

test('the portal works on a phone-sized screen and in French', async () => {
  const ctx = await browser.newContext({ viewport: { width: 375, height: 740 }, locale: 'fr-FR' });
  const page = await ctx.newPage();
  await page.goto(`${base}/#/`);
  await page.getByRole('heading', { name: 'Votre visage, vos droits' }).waitFor();
  const overflow = await page.evaluate('document.documentElement.scrollWidth > window.innerWidth + 1');
  assert.equal(overflow, false, 'no horizontal scrolling at 375 px');
  assert.equal(await page.evaluate('document.documentElement.lang'), 'fr');
  await page.getByRole('link', { name: "Lire l'information et participer" }).click();
  await page.getByTestId('notice').waitFor();
  assert.match((await page.getByTestId('notice').textContent()) ?? '', /Responsable du traitement/);
  await shot(page, '11-portal-phone-fr');
  // Keyboard: the consent checkbox is reachable and operable without a mouse.
  await page.getByRole('checkbox').focus();
  await page.keyboard.press('Space');
  assert.equal(await page.getByRole('checkbox').isChecked(), true);
  await ctx.close();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { FACES, REPO, engineEnv, tempDir } from '../helpers.js';

test('purpose, consent, enroll, identify, verify, ingest (resumable) and redact through the CLI', async () => {
  const dir = tempDir();
  const env = { ...process.env, VEIL_DATA_DIR: dir, ...(await engineEnv()) };
  const veil = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(REPO, 'bin/veil.mjs'), ...args], {
      encoding: 'utf8',
      env,
      timeout: 120_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr, json: () => JSON.parse(r.stdout) };
  };
  const img = (p: string) => join(FACES, p);
  // Only `veil init` (or `veil serve`) creates a data directory: other commands refuse a missing one.
  const missing = veil('purpose', 'list');
  assert.equal(missing.code, 1);
  assert.match(missing.err, /NOT_FOUND: no Veil data directory at .*veil init/);
  assert.equal(veil('init').code, 0);
  writeFileSync(join(dir, 'notice.txt'), 'We match your face against event photos to find the pictures you appear in.');
  assert.equal(
    veil(
      'purpose',
      'create',
      '--key',
      'events',
      '--name',
      'Events',
      '--description',
      'Find the photos of you taken at our events.',
      '--basis',
      'consent',
    ).code,
    0,
  );
  const bad = veil(
    'purpose',
    'create',
    '--key',
    'bad',
    '--name',
    'Bad',
    '--description',
    'Find the photos of you taken at our events.',
    '--basis',
    'consent',
    '--retention',
    'P5Y',
  );
  assert.equal(bad.code, 1);
  assert.match(bad.err, /INVALID_INPUT.*3-year/);
  const c = veil(
    'consent',
    'give',
    '--purpose',
    'events',
    '--notice-file',
    join(dir, 'notice.txt'),
    '--notice-version',
    '1',
    '--method',
    'paper',
    '--collector',
    'desk',
    '--receipt-out',
    join(dir, 'receipt.json'),
    '--json',
  ).json();
  assert.ok(existsSync(join(dir, 'receipt.json')));
  assert.equal(JSON.parse(readFileSync(join(dir, 'receipt.json'), 'utf8')).receiptId, c.consent.id);
  const noConsent = veil('subject', 'enroll', '--purpose', 'events', img('face_recognition/biden/test_biden.jpg'));
  assert.equal(noConsent.code, 1);
  assert.match(noConsent.err, /CONSENT_REQUIRED/);
  const e = veil(
    'subject',
    'enroll',
    '--purpose',
    'events',
    '--consent',
    c.consent.id,
    img('face_recognition/obama/test_obama.jpg'),
    '--json',
  ).json();
  const id = veil(
    'identify',
    '--purpose',
    'events',
    img('face_recognition/obama/test_obama2.jpg'),
    '--justification',
    'find my photos',
    '--json',
  ).json();
  assert.equal(id.candidates[0].subjectId, e.subjectId);
  // A line per face of a group photo (Obama, Biden and a child): Obama found, the others (never enrolled) not.
  const group = veil(
    'identify',
    '--purpose',
    'events',
    img('face_recognition/_multi_face/knn_test_obama_and_biden.jpg'),
    '--justification',
    'group photo',
  ).out.trim();
  const lines = group.split('\n');
  assert.ok(lines.length >= 2, group);
  assert.equal(
    lines.filter((l) => /^face \d+ at \d+,\d+ \d+x\d+: #1 /.test(l) && l.includes(e.subjectId)).length,
    1,
    group,
  );
  assert.equal(
    lines.filter((l) => /^face \d+ at .*: no match above threshold /.test(l)).length,
    lines.length - 1,
    group,
  );
  const v = veil(
    'verify',
    '--purpose',
    'events',
    img('face_recognition/obama/test_obama3.jpg'),
    '--subject',
    e.subjectId,
    '--justification',
    'check-in',
    '--json',
  ).json();
  assert.equal(v.match, true);

  const first = veil('ingest', '--purpose', 'events', img('face_recognition/_multi_face'), '--json').json();
  assert.equal(first.ingested, 3);
  assert.equal(first.sightings, 2);
  const again = veil('ingest', '--purpose', 'events', img('face_recognition/_multi_face'), '--json').json();
  assert.equal(again.skipped, 3);
  assert.equal(again.ingested, 0);
  const media = first.outcomes.find((o: { file: string }) => o.file.endsWith('knn_test_obama_and_biden.jpg')).mediaId;
  const r = veil('redact', media, '--out', join(dir, 'redacted.jpg'), '--json').json();
  assert.deepEqual([r.blurred, r.shown], [2, 1]);
  assert.equal((await sharp(join(dir, 'redacted.jpg')).metadata()).format, 'jpeg');
  assert.equal(veil('redact', 'med_nope', '--out', join(dir, 'x.jpg')).code, 1);
});

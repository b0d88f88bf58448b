import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import { FACES, REPO, engineEnv, tempDir } from '../helpers.js';
import { verifyCertificate } from '../../src/rights/certificate.js';

test('rights through the CLI: submit, code from the outbox, verify with a selfie, list, extend, fulfil access and erasure, deny', async () => {
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
  assert.equal(veil('init').code, 0);
  const lastCode = () => {
    const files = readdirSync(join(dir, 'outbox')).sort();
    return readFileSync(join(dir, 'outbox', files.at(-1)!), 'utf8').match(/code: (\d{6})/)![1]!;
  };
  writeFileSync(join(dir, 'notice.txt'), 'We match your face against event photos to find the pictures you appear in.');
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
  );
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
    '--email',
    'me@example.org',
    '--json',
  ).json();
  veil(
    'subject',
    'enroll',
    '--purpose',
    'events',
    '--consent',
    c.consent.id,
    join(FACES, 'face_recognition/obama/test_obama.jpg'),
  );

  const a = veil('rights', 'submit', '--kind', 'access', '--email', 'me@example.org', '--json').json();
  assert.equal(veil('rights', 'verify', a.requestId, '--code', '12345').code, 1);
  const ver = veil(
    'rights',
    'verify',
    a.requestId,
    '--code',
    lastCode(),
    '--selfie',
    join(FACES, 'face_recognition/obama/test_obama2.jpg'),
    '--json',
  ).json();
  assert.deepEqual(Object.keys(ver).sort(), ['downloadToken', 'state']);
  const list = veil('rights', 'list', '--open', '--json').json();
  assert.equal(list.open, 1);
  assert.equal(list.awaitingReview, 1, 'a selfie goes to the DPO first');
  assert.match(
    veil('rights', 'show', a.requestId).out,
    /review pending: nobody beyond what the address links; liveness passed \(score 0\.\d{4}/,
  );
  assert.equal(veil('rights', 'fulfil', a.requestId).code, 1, 'not before the review');
  const reviewed = veil(
    'rights',
    'review',
    a.requestId,
    '--decision',
    'approve',
    '--note',
    'selfie matches the record',
    '--json',
  );
  assert.equal(reviewed.code, 0, reviewed.err);
  assert.equal(veil('rights', 'extend', a.requestId, '--months', '2', '--reason', 'many photos to review').code, 0);
  const zipPath = join(dir, 'access.zip');
  assert.equal(veil('rights', 'fulfil', a.requestId, '--out', zipPath).code, 0);
  assert.equal(statSync(zipPath).mode & 0o777, 0o600, 'the export holds face crops: written for its owner only');
  const manifest = JSON.parse(strFromU8(unzipSync(new Uint8Array(readFileSync(zipPath)))['manifest.json']!));
  assert.equal(manifest.subjects[0].subjectId, c.consent.subjectId);

  const e = veil('rights', 'submit', '--kind', 'erasure', '--email', 'me@example.org', '--json').json();
  veil('rights', 'verify', e.requestId, '--code', lastCode());
  const certPath = join(dir, 'certificate.json');
  assert.equal(veil('rights', 'fulfil', e.requestId, '--out', certPath).code, 0);
  const pub = veil('audit', 'pubkey', '--json').json().publicKey;
  assert.deepEqual(verifyCertificate(JSON.parse(readFileSync(certPath, 'utf8')), pub), []);
  const shown = veil('rights', 'show', e.requestId);
  assert.match(shown.out, /fulfilled/);

  const d = veil('rights', 'submit', '--kind', 'rectification', '--email', 'x@example.org', '--json').json();
  assert.equal(
    veil('rights', 'deny', d.requestId, '--reason', 'manifestly unfounded', '--ground', 'Art. 12(5)(b)').code,
    0,
  );
  assert.equal(veil('rights', 'show', 'req_nope').code, 1);
  assert.equal(veil('rights', 'frobnicate').code, 2);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faceDataIn } from '../../support/face-data-scan.js';

// The scan the API and report tests use to say "no face data here" must be able to fail.

const vector = Array.from({ length: 512 }, (_, i) => Math.sin(i));

test('a vector, a typed array through JSON, or an encoded blob is found wherever it sits, under any name', () => {
  const photo = Buffer.from(Array.from({ length: 200 }, (_, i) => i)).toString('base64');
  const doc = JSON.parse(
    JSON.stringify({
      id: 'reemb_QSLAnTpaSJFn00uV',
      report: { reenroll: [{ subjectId: 'subj_x', templates: 1, q: vector }] },
      nested: [{ f: Float32Array.from(vector) }],
      image: photo,
      hex: 'ab'.repeat(40),
      joined: { csv: vector.join(','), printed: String(Float32Array.from(vector.slice(0, 8))) },
    }),
  ) as unknown;
  assert.deepEqual(faceDataIn(doc), [
    '$.report.reenroll.0.q',
    '$.nested.0.f',
    '$.image',
    '$.hex',
    '$.joined.csv',
    '$.joined.printed',
  ]);
});

test('counts, ids, progress and messages are not face data', () => {
  const run = {
    id: 'reemb_QSLAnTpaSJFn00uV',
    state: 'done',
    progress: { done: 4, total: 4 },
    report: { reembedded: 3, held: 0, suppressionsNotCarried: 0, reenroll: [{ templates: 1, reasons: ['no-face'] }] },
    error: { code: 'JOB_ABANDONED', message: 'The process running it stopped before it ended (its lease expired).' },
  };
  assert.deepEqual(faceDataIn(run), []);
});

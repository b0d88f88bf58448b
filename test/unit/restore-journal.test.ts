import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { JOURNAL_FILE, RestoreJournal, type JournalChange } from '../../src/privacy/restore-journal.js';
import type { PurposeId, SubjectId } from '../../src/ids.js';
import { tempDir } from '../helpers.js';

const restriction = (subject: string, restricted: boolean, day = 1): JournalChange => ({
  kind: 'restriction',
  at: `2026-01-0${day}T00:00:00.000Z`,
  subjectId: subject as SubjectId,
  restricted,
});
const suspension = (suspended: boolean): JournalChange => ({
  kind: 'purpose-status',
  at: '2026-01-01T00:00:00.000Z',
  purposeId: 'pur_a' as PurposeId,
  suspended,
});
/** What a restore would read, without the lines' random ids. */
const changes = (j: RestoreJournal) => j.read().map(({ id: _id, ...e }) => e);
/** No change is ever in a database here: a failed one was not made. */
const absent = () => Promise.resolve(false);
const record = (j: RestoreJournal, e: JournalChange) => j.journaled((note) => note(e), absent);

// A crash mid-append leaves the last line without its end. The next change's line must not be
// written onto it: the read skips a line it cannot parse, and the later change would go with it.
test('an entry appended after a torn line is read back', async () => {
  const dir = tempDir('veil-journal-');
  const j = new RestoreJournal(dir);
  await record(j, restriction('sub_a', true));
  mkdirSync(join(dir, 'keys'), { recursive: true });
  appendFileSync(join(dir, JOURNAL_FILE), '{"kind":"restriction","at":"2026-01-02T0');
  await record(j, restriction('sub_b', true, 3));
  assert.deepEqual(changes(j), [restriction('sub_a', true), restriction('sub_b', true, 3)]);
});

// A crash between the line and the commit: a narrowing change's line is already on disk (a restore
// applies what was asked), a widening change's is not yet (a restore keeps the narrower state).
test('a narrowing change is journaled before its transaction ends, a widening one only after', async () => {
  const dir = tempDir('veil-journal-');
  const j = new RestoreJournal(dir);
  for (const [e, narrows] of [
    [restriction('sub_a', true), true],
    [suspension(true), true],
    [restriction('sub_a', false), false],
    [suspension(false), false],
  ] as const) {
    const before = changes(j).length;
    let during: number | undefined;
    await j.journaled(async (note) => {
      await note(e);
      // Still inside the "transaction": what a crash here would leave, read as a restore would.
      during = changes(new RestoreJournal(dir)).length - before;
    }, absent);
    assert.equal(during, narrows ? 1 : 0, `${e.kind} ${JSON.stringify(e)} during`);
    assert.deepEqual(changes(j).at(-1), e, 'written once it committed');
    assert.equal(changes(j).length, before + 1);
  }
});

test('a change whose transaction fails leaves nothing a restore would replay', async () => {
  const j = new RestoreJournal(tempDir('veil-journal-'));
  await record(j, restriction('sub_kept', true));
  for (const e of [restriction('sub_a', true), suspension(true), restriction('sub_b', false), suspension(false)]) {
    await assert.rejects(
      j.journaled(async (note) => {
        await note(e);
        throw new Error('commit failed');
      }, absent),
      /commit failed/,
    );
  }
  assert.deepEqual(changes(j), [restriction('sub_kept', true)]);
});

// Lines are written inside their transactions, so they are in commit order: a lift whose commit came
// first keeps its place ahead of a restriction that committed while the lift was still confirming.
test('a widening line keeps its place in the order of commits, and counts only once confirmed', async () => {
  const dir = tempDir('veil-journal-');
  const j = new RestoreJournal(dir);
  let committed!: () => void;
  let written!: () => void;
  const onDisk = new Promise<void>((r) => (written = r));
  const lift = j.journaled(async (note) => {
    await note(restriction('sub_a', false));
    written();
    await new Promise<void>((r) => (committed = r));
  }, absent);
  await onDisk;
  assert.deepEqual(changes(new RestoreJournal(dir)), [], 'an unconfirmed lift does not count');
  await record(j, restriction('sub_a', true, 2));
  committed();
  await lift;
  assert.deepEqual(changes(j), [restriction('sub_a', false), restriction('sub_a', true, 2)]);
});

// A damaged do-not-enroll line that still parses (its key field gone) must not stop every start
// whose sweep asks which keys the journal needs: it names none, and the other lines still count.
test('a do-not-enroll line without its key names no key, and the good lines still do', async () => {
  const dir = tempDir('veil-journal-');
  const j = new RestoreJournal(dir);
  const entry = (id: string, slot: number): JournalChange => ({
    kind: 'suppression-added',
    at: '2026-01-01T00:00:00.000Z',
    suppressionId: id,
    model: 'm',
    reason: 'objection',
    key: { owner: `suppression:${id}`, slot },
    sealed: 'AAAA',
  });
  await record(j, entry('sup_a', 7));
  appendFileSync(
    join(dir, JOURNAL_FILE),
    '{"kind":"suppression-added","at":"2026-01-02T00:00:00.000Z","suppressionId":"sup_b"}\n',
  );
  await record(j, entry('sup_c', 9));
  assert.deepEqual(
    [...j.keysNeeded()],
    [
      ['suppression:sup_a', 7],
      ['suppression:sup_c', 9],
    ],
  );
});

// A write may take only part of what it was given (a full disk): the line is torn, and a change
// that went on as if it were written would count for nothing at a restore.
test('a line the disk takes only part of fails its change, and the next line is read back', async () => {
  const dir = tempDir('veil-journal-');
  const j = new RestoreJournal(dir);
  await record(j, restriction('sub_a', true));
  const probe = await open(join(dir, 'probe'), 'w');
  const proto = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const write = proto.write as (this: FileHandle, b: Buffer, at: number, n: number) => Promise<unknown>;
  const short = mock.method(proto, 'write', function (this: FileHandle, data: string | Buffer) {
    const bytes = Buffer.from(data);
    return write.call(this, bytes, 0, bytes.length - 2);
  });
  try {
    await assert.rejects(record(j, restriction('sub_b', true, 2)), /took \d+ of a line/);
  } finally {
    short.mock.restore();
  }
  assert.ok(!readFileSync(join(dir, JOURNAL_FILE), 'utf8').endsWith('\n'), 'the line is torn');
  await record(j, restriction('sub_c', true, 3));
  assert.deepEqual(changes(j), [restriction('sub_a', true), restriction('sub_c', true, 3)]);
});

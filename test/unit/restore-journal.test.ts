import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { JOURNAL_FILE, RestoreJournal } from '../../src/privacy/restore-journal.js';
import type { SubjectId } from '../../src/ids.js';
import { tempDir } from '../helpers.js';

// A crash mid-append leaves the last line without its end. The next change's line must not be
// written onto it: the read skips a line it cannot parse, and the later change would go with it.
test('an entry appended after a torn line is read back', async () => {
  const dir = tempDir('veil-journal-');
  const j = new RestoreJournal(dir);
  const first = {
    kind: 'restriction',
    at: '2026-01-01T00:00:00.000Z',
    subjectId: 'sub_a' as SubjectId,
    restricted: true,
  } as const;
  await j.append(first);
  mkdirSync(join(dir, 'keys'), { recursive: true });
  appendFileSync(join(dir, JOURNAL_FILE), '{"kind":"restriction","at":"2026-01-02T0');
  const later = {
    kind: 'restriction',
    at: '2026-01-03T00:00:00.000Z',
    subjectId: 'sub_b' as SubjectId,
    restricted: true,
  } as const;
  await j.append(later);
  assert.deepEqual(j.read(), [first, later]);
});

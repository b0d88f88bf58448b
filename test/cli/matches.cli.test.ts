import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { buildApp } from '../../src/api/app.js';
import { actors } from '../../src/auth/actor.js';
import { consentAndEnroll, engine, eventPurpose, veil as openGallery } from '../gallery/fixture.js';
import { face, FACES, REPO } from '../helpers.js';

// The two-person rule from the command line: each person runs the CLI against the server with their
// own key (`--url --key`), as two different keys are what the rule counts.

test('veil matches: two operators confirm an identification from the CLI with their own keys; one rejection is final', async () => {
  await engine();
  const v = await openGallery();
  const probe = join(FACES, 'faceapi_bbt/amy/amy2.png');
  await eventPurpose(v, 'watch');
  await v.purposes.setConfirmations(actors.system('test'), 'watch', {
    confirmations: 2,
    reason: 'Art. 14(5) oversight',
  });
  const { subjectId } = await consentAndEnroll(v, 'watch', [face('faceapi_bbt/amy/amy1.png')]);
  const key = async (name: string) =>
    (await v.apiKeys.create(actors.system('test'), { name, role: 'operator', purposes: ['watch'] })).token;
  const [alice, bob] = [await key('alice'), await key('bob')];
  const app = await buildApp({ services: v.services });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  // Asynchronous: the server runs in this process and must keep answering while the CLI waits.
  const cli = (token: string, ...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) =>
      execFile(
        process.execPath,
        [join(REPO, 'bin/veil.mjs'), '--url', url, '--key', token, ...args],
        { encoding: 'utf8', timeout: 60_000 },
        (e, out, err) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
      ),
    );
  try {
    const id = await cli(alice, 'identify', '--purpose', 'watch', probe, '--case-ref', 'C-7');
    assert.equal(id.code, 0, id.err);
    assert.match(id.out, new RegExp(`${subjectId} .* UNCONFIRMED \\(0 of 2\\)`));
    const searchId = /search (srch_\S+): a match counts once confirmed/.exec(id.out)?.[1];
    assert.ok(searchId, id.out);

    const first = await cli(alice, 'matches', 'confirm', searchId, '--face', '1', '--subject', subjectId);
    assert.equal(first.code, 0, first.err);
    assert.match(
      first.out,
      /^face 1 \S+ #1 similarity [\d.]+: unconfirmed \(1 of 2\) \(confirmed by api-key:key_[\w-]+ at /,
    );
    const again = await cli(alice, 'matches', 'confirm', searchId, '--face', '1', '--subject', subjectId, '--json');
    assert.equal(JSON.parse(again.out).confirmation.confirmations, 1, 'the same key twice counts once');
    const second = await cli(bob, 'matches', 'confirm', searchId, '--face', '1', '--subject', subjectId);
    assert.match(second.out, /: confirmed \(confirmed by .*; confirmed by /);

    const listed = await cli(bob, 'matches', 'list', searchId);
    assert.equal(listed.code, 0, listed.err);
    assert.match(
      listed.out,
      new RegExp(`^search ${searchId} \\(watch, .*\\): 1 match\\(es\\)\\nface 1 ${subjectId} .*: confirmed`),
    );

    // Bad usage exits 2 with the usage line; a face the search did not have is a typed error (exit 1).
    const noFace = await cli(bob, 'matches', 'reject', searchId, '--subject', subjectId);
    assert.equal(noFace.code, 2);
    assert.match(noFace.err, /matches reject <search-id> --face N --subject S/);
    const wrong = await cli(bob, 'matches', 'reject', searchId, '--face', '3', '--subject', subjectId);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /NOT_FOUND: Search \S+ did not return that subject/);
    const rejected = await cli(bob, 'matches', 'reject', searchId, '--face', '1', '--subject', subjectId);
    assert.match(rejected.out, /: rejected \(/);
    const dpo = { kind: 'api-key', id: 'key_dpo', role: 'dpo', purposes: ['watch'] } as const;
    const after = await v.search.confirmations(dpo, searchId);
    assert.equal(after.matches[0]!.confirmation.state, 'rejected');
  } finally {
    await app.close();
    await v.close();
  }
});

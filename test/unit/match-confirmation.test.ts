import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confirmationOf, counts, nextStep, type DecisionRecord } from '../../src/gallery/match-confirmation.js';
import { identifyLines, matchLine } from '../../src/cli/identify.format.js';

const c = (by: string): DecisionRecord => ({ by, decision: 'confirm' });
const r = (by: string): DecisionRecord => ({ by, decision: 'reject' });

test('under the two-person rule a match counts only once two different people confirmed it', () => {
  assert.deepEqual(confirmationOf(2, []), { required: 2, state: 'unconfirmed', confirmations: 0 });
  assert.deepEqual(confirmationOf(2, [c('api-key:a')]), { required: 2, state: 'unconfirmed', confirmations: 1 });
  assert.deepEqual(confirmationOf(2, [c('api-key:a'), c('api-key:b')]), {
    required: 2,
    state: 'confirmed',
    confirmations: 2,
  });
  assert.equal(counts(confirmationOf(2, [c('api-key:a')])), false);
  assert.equal(counts(confirmationOf(2, [c('api-key:a'), c('api-key:b')])), true);
});

test('the same person confirming twice counts once; a key and the command line with the same id are two actors', () => {
  assert.equal(confirmationOf(2, [c('api-key:a'), c('api-key:a')]).state, 'unconfirmed');
  assert.equal(confirmationOf(2, [c('api-key:a'), c('api-key:a')]).confirmations, 1);
  assert.equal(confirmationOf(3, [c('api-key:a'), c('api-key:b'), c('api-key:a')]).state, 'unconfirmed');
  assert.equal(confirmationOf(2, [c('api-key:a'), c('cli:a')]).state, 'confirmed');
});

test('one rejection makes the match rejected, before or after confirmations, and it does not count', () => {
  assert.equal(confirmationOf(2, [c('api-key:a'), c('api-key:b'), r('api-key:c')]).state, 'rejected');
  assert.equal(confirmationOf(2, [r('api-key:a'), c('api-key:b'), c('api-key:c')]).state, 'rejected');
  // A purpose that asks for no confirmation still honours a rejection (a contest upheld).
  assert.equal(confirmationOf(0, []).state, 'not-required');
  assert.equal(confirmationOf(0, [r('api-key:a')]).state, 'rejected');
  assert.equal(counts(confirmationOf(0, [])), true);
  assert.equal(counts(confirmationOf(0, [r('api-key:a')])), false);
  assert.equal(confirmationOf(1, [c('api-key:a')]).state, 'confirmed');
});

test('a repeated decision is not recorded again; a confirmation of a rejected match is refused', () => {
  assert.equal(nextStep([], c('api-key:a')), 'record');
  assert.equal(nextStep([c('api-key:a')], c('api-key:a')), 'repeat');
  assert.equal(nextStep([c('api-key:a')], c('api-key:b')), 'record');
  // Changing one's mind towards rejection is a new decision, and it wins.
  assert.equal(nextStep([c('api-key:a')], r('api-key:a')), 'record');
  assert.equal(nextStep([r('api-key:a')], c('api-key:b')), 'refuse');
  assert.equal(nextStep([r('api-key:a')], r('api-key:a')), 'repeat');
  assert.equal(nextStep([r('api-key:a')], r('api-key:b')), 'record');
});

test('veil identify prints an unconfirmed match as such, and nothing extra when no confirmation is required', () => {
  const face = (confirmation?: { required: number; state: string; confirmations: number }) => ({
    searchId: 'srch_1',
    threshold: 0.5,
    facesInProbe: 1,
    faces: [
      {
        face: 0,
        box: { x: 0, y: 0, width: 10, height: 10 },
        decision: 'match' as const,
        candidates: [
          {
            subjectId: 'sub_a',
            similarity: 0.7,
            rank: 1,
            estimatedFalseMatchRate: 1e-6,
            ...(confirmation ? { confirmation } : {}),
          },
        ],
      },
    ],
  });
  const unconfirmed = identifyLines(face(confirmationOf(2, [c('api-key:a')]))).split('\n');
  assert.match(unconfirmed[0]!, /sub_a .* UNCONFIRMED \(1 of 2\)$/);
  // ... and says how to confirm it, naming the search.
  assert.equal(
    unconfirmed[1],
    'search srch_1: a match counts once confirmed: veil matches confirm srch_1 --face N --subject S',
  );
  assert.match(identifyLines(face(confirmationOf(2, [r('api-key:a')]))), / rejected$/);
  assert.doesNotMatch(identifyLines(face()), /CONFIRM|rejected|matches confirm/);
});

test('veil matches prints each match with its state, counted from face 1, and who decided', () => {
  const m = (
    confirmation: ReturnType<typeof confirmationOf>,
    decisions: { by: string; decision: string; at: string }[],
  ) => matchLine({ face: 0, subjectId: 'sub_a', rank: 1, similarity: 0.71, confirmation, decisions });
  assert.equal(
    m(confirmationOf(2, [c('api-key:a')]), [{ by: 'api-key:a', decision: 'confirm', at: 't1' }]),
    'face 1 sub_a #1 similarity 0.71: unconfirmed (1 of 2) (confirmed by api-key:a at t1)',
  );
  assert.equal(
    m(confirmationOf(2, [r('api-key:b')]), [{ by: 'api-key:b', decision: 'reject', at: 't2' }]),
    'face 1 sub_a #1 similarity 0.71: rejected (rejected by api-key:b at t2)',
  );
  assert.equal(m(confirmationOf(0, []), []), 'face 1 sub_a #1 similarity 0.71: not required');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasControlCharacters, hasVisibleCharacters } from '../../src/visible-text.js';
import { visibleText } from '../../src/auth/policy.js';
import { visible } from '../../src/api/route.js';
import { isVeilError } from '../../src/errors.js';

// Each of these renders as nothing, or as a blank, yet is a letter, mark or symbol to Unicode.
const BLANKS = {
  'Braille blank U+2800': '\u2800',
  'Hangul filler U+3164': '\u3164',
  'Hangul choseong filler U+115F': '\u115F',
  'Hangul jungseong filler U+1160': '\u1160',
  'halfwidth Hangul filler U+FFA0': '\uFFA0',
  'combining acute on nothing U+0301': '\u0301',
  'Khmer inherent vowel U+17B4': '\u17B4',
  'zero-width space U+200B': '\u200B',
  'word joiner U+2060': '\u2060',
  'no-break space U+00A0': '\u00A0',
  'ideographic space U+3000': '\u3000',
};

test('blank-looking characters, alone or together, say nothing', () => {
  for (const [name, ch] of Object.entries(BLANKS)) {
    assert.equal(hasVisibleCharacters(ch.repeat(3)), false, name);
    assert.equal(visibleText('caseRef', `  ${ch} `), null, name);
    assert.equal(visible(100).safeParse(ch).success, false, name);
  }
  assert.equal(hasVisibleCharacters(Object.values(BLANKS).join('')), false);
});

test('a letter or digit in any script says something, blanks around it or not', () => {
  for (const v of ['C-1', '7', 'é', '\u3164ok\u2800', '事件 42', 'Ωμέγα', '\u0661']) {
    assert.equal(hasVisibleCharacters(v), true, v);
    assert.equal(visible(100).safeParse(v).success, true, v);
  }
  assert.equal(visibleText('caseRef', '  CASE-9 '), 'CASE-9');
  // Punctuation alone is not a reason.
  assert.equal(hasVisibleCharacters('...-'), false);
});

test('control characters are refused; tabs and line breaks are text', () => {
  assert.equal(hasControlCharacters('a\u0000b'), true);
  assert.equal(hasControlCharacters('a\u001bb'), true);
  assert.equal(hasControlCharacters('line 1\nline 2\tx\r'), false);
  assert.throws(
    () => visibleText('justification', 'ok\u0007'),
    (e: unknown) => isVeilError(e, 'INVALID_INPUT'),
  );
  assert.equal(visible(100).safeParse('ok\u0007').success, false);
});

/**
 * Free text that must say something (a justification, a case reference, a reason told to a person):
 * one rule, used by the API's schemas and by the access policy alike.
 *
 * "Visible" means at least one letter or digit that renders as one. Zero-width characters, spaces,
 * combining marks on nothing and the blank glyphs below are letters or symbols to Unicode but show
 * nothing, so a field made of them looks filled in and says nothing.
 */
// Hangul fillers (U+115F, U+1160, U+3164, U+FFA0) are \p{L}; Khmer inherent vowels (U+17B4, U+17B5)
// are \p{M}; the Braille blank (U+2800) is \p{So}.
const BLANK_LETTERS = /\u115F|\u1160|\u3164|\uFFA0|\u17B4|\u17B5|\u2800/gu;
const SAYS_SOMETHING = /[\p{L}\p{N}]/u;
const CONTROL = /\p{Cc}/u;

/** Control characters other than tab and line breaks. */
export function hasControlCharacters(v: string): boolean {
  return CONTROL.test(v.replace(/[\t\n\r]/g, ''));
}

/** At least one letter or digit that is not a blank glyph. */
export function hasVisibleCharacters(v: string): boolean {
  return SAYS_SOMETHING.test(v.replace(BLANK_LETTERS, ''));
}

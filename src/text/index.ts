import { en } from './en.js';
import { fr } from './fr.js';
import type { Lang, Text } from './text.js';

export type { Lang, Text } from './text.js';

const TEXTS: Record<Lang, Text> = { en, fr };

export function text(lang: Lang): Text {
  return TEXTS[lang];
}

export function langOf(v: string | null | undefined): Lang {
  return v === 'fr' ? 'fr' : 'en';
}

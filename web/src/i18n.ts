// The portal's and the console's words live with everything else Veil says to people, one file per
// language (src/text/en.ts, src/text/fr.ts); the browser bundle takes them from there.
import { en } from '../../src/text/en.js';
import { fr } from '../../src/text/fr.js';
import type { Lang, PortalAction, PortalText } from '../../src/text/text.js';
import type { ConsoleText, WordsText } from '../../src/text/ui.en.js';

export type { ConsoleText, Lang, PortalAction, PortalText, WordsText };

export const STRINGS: Record<Lang, PortalText> = { en: en.portal, fr: fr.portal };
export const WORDS: Record<Lang, WordsText> = { en: en.words, fr: fr.words };
export const CONSOLE: Record<Lang, ConsoleText> = { en: en.console, fr: fr.console };

/** P1Y -> "1 year", P6M -> "6 months" (or French), as src/privacy/notice.ts says it in notices. */
export function duration(iso: string, lang: Lang): string {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/.exec(iso);
  if (!m) return iso;
  const t = lang === 'fr' ? fr : en;
  const parts = m
    .slice(1)
    .map((v) => Number(v ?? 0))
    .flatMap((v, i) => (v ? [`${v} ${v === 1 ? t.durationUnits[i]![0] : t.durationUnits[i]![1]}`] : []));
  return parts.join(t.durationJoin) || iso;
}

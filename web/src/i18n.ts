// The portal's words live with everything else Veil says to people, one file per language
// (src/text/en.ts, src/text/fr.ts); the browser bundle takes them from there.
import { en } from '../../src/text/en.js';
import { fr } from '../../src/text/fr.js';
import type { Lang, PortalAction, PortalText } from '../../src/text/text.js';

export type { Lang, PortalAction, PortalText };

export const STRINGS: Record<Lang, PortalText> = { en: en.portal, fr: fr.portal };

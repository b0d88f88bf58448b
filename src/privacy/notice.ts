import { createHash } from 'node:crypto';
import { parseDuration, type Purpose } from './purpose.js';

/** P1Y -> "1 year", P6M -> "6 months" (or French): people read durations, not ISO 8601. */
export function humanDuration(iso: string, lang: 'en' | 'fr'): string {
  const d = parseDuration(iso);
  if (!d) return iso;
  const units =
    lang === 'fr'
      ? [
          ['an', 'ans'],
          ['mois', 'mois'],
          ['semaine', 'semaines'],
          ['jour', 'jours'],
        ]
      : [
          ['year', 'years'],
          ['month', 'months'],
          ['week', 'weeks'],
          ['day', 'days'],
        ];
  const parts = d.flatMap((v, i) => (v ? [`${v} ${v === 1 ? units[i]![0] : units[i]![1]}`] : []));
  return parts.join(lang === 'fr' ? ' et ' : ' and ') || iso;
}

/**
 * The notice shown before consent in the portal: who, what, why, how long, to whom, how to withdraw.
 * Composed from the purpose, so the version (a hash of the text) changes whenever the purpose does.
 */
export function noticeFor(p: Purpose, controller: string, lang: 'en' | 'fr'): { text: string; version: string } {
  const years = humanDuration(p.retention, lang);
  const text =
    lang === 'fr'
      ? `Responsable du traitement : ${controller}.\nFinalité : ${p.name} — ${p.description}\nDonnées : un gabarit biométrique calculé à partir de votre photo (512 nombres), et la photo seulement si cette finalité la conserve (${p.keepSourceImages ? 'oui' : 'non'}).\nBase légale : votre consentement explicite (RGPD art. 6(1)(a) et 9(2)(a)).\nDurée de conservation : ${years} après votre dernière interaction, au plus 3 ans.\nDestinataires : ${p.recipients.join(', ') || 'aucun en dehors du responsable'}.\nRetrait : à tout moment dans ce portail, avec effet immédiat ; vos gabarits sont alors détruits.`
      : `Controller: ${controller}.\nPurpose: ${p.name} — ${p.description}\nData: a biometric template computed from your photo (512 numbers), and the photo itself only if this purpose keeps it (${p.keepSourceImages ? 'yes' : 'no'}).\nLawful basis: your explicit consent (GDPR Art. 6(1)(a) and 9(2)(a)).\nKept for: ${years} after your last interaction, never more than 3 years.\nRecipients: ${p.recipients.join(', ') || 'none outside the controller'}.\nWithdrawal: any time in this portal, effective at once; your templates are then destroyed.`;
  return { text, version: `${lang}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}` };
}

import { createHash } from 'node:crypto';
import { parseDuration, type Purpose } from './purpose.js';
import { text, type Lang } from '../text/index.js';

/** P1Y -> "1 year", P6M -> "6 months" (or French): people read durations, not ISO 8601. */
export function humanDuration(iso: string, lang: Lang): string {
  const d = parseDuration(iso);
  if (!d) return iso;
  const t = text(lang);
  const parts = d.flatMap((v, i) => (v ? [`${v} ${v === 1 ? t.durationUnits[i]![0] : t.durationUnits[i]![1]}`] : []));
  return parts.join(t.durationJoin) || iso;
}

/**
 * The notice shown before consent in the portal: who, what, why, how long, to whom, how to withdraw.
 * Composed from the purpose, so the version (a hash of the text) changes whenever the purpose does.
 */
export function noticeFor(p: Purpose, controller: string, lang: Lang): { text: string; version: string } {
  const body = text(lang).notice({
    controller,
    name: p.name,
    description: p.description,
    keepsPhotos: p.keepSourceImages,
    duration: humanDuration(p.retention, lang),
    recipients: p.recipients,
  });
  return { text: body, version: `${lang}-${createHash('sha256').update(body).digest('hex').slice(0, 12)}` };
}

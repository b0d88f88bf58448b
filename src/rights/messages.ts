import { REQUEST_KINDS, type RequestKind } from './request.js';

/** The plain-language messages people receive, in English and French. */
type Lang = 'en' | 'fr';

const KIND: Record<Lang, Record<RequestKind, string>> = {
  en: {
    access: 'access to your data',
    rectification: 'correction of your data',
    erasure: 'erasure of your data',
    restriction: 'restriction of processing',
    'lift-restriction': 'lifting the restriction',
    portability: 'a copy of your data to take elsewhere',
    objection: 'objection to processing',
    'withdraw-consent': 'withdrawal of your consent',
  },
  fr: {
    access: 'accès à vos données',
    rectification: 'rectification de vos données',
    erasure: 'effacement de vos données',
    restriction: 'limitation du traitement',
    'lift-restriction': 'levée de la limitation',
    portability: 'portabilité de vos données',
    objection: 'opposition au traitement',
    'withdraw-consent': 'retrait de votre consentement',
  },
};

export function codeMail(lang: Lang, kind: RequestKind, code: string, requestId: string, due: string) {
  const d = due.slice(0, 10);
  return lang === 'fr'
    ? {
        subject: `Votre demande (${REQUEST_KINDS[kind]}) : code de vérification`,
        text: `Nous avons reçu votre demande de ${KIND.fr[kind]} (référence ${requestId}).\n\nVotre code de vérification : ${code}\nIl est valable 30 minutes.\n\nNous devons y répondre au plus tard le ${d} (article 12(3) du RGPD).\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message.`,
      }
    : {
        subject: `Your request (${REQUEST_KINDS[kind]}): verification code`,
        text: `We received your request for ${KIND.en[kind]} (reference ${requestId}).\n\nYour verification code: ${code}\nIt is valid for 30 minutes.\n\nWe must answer by ${d} (GDPR Art. 12(3)).\nIf you did not make this request, ignore this message.`,
      };
}

export function extensionMail(lang: Lang, requestId: string, newDue: string, reason: string) {
  const d = newDue.slice(0, 10);
  return lang === 'fr'
    ? {
        subject: `Votre demande ${requestId} : délai prolongé`,
        text: `Nous avons besoin de plus de temps pour traiter votre demande ${requestId}. Nouvelle échéance : ${d}.\nMotif : ${reason}\n(Article 12(3) du RGPD.)`,
      }
    : {
        subject: `Your request ${requestId}: deadline extended`,
        text: `We need more time to handle your request ${requestId}. New deadline: ${d}.\nReason: ${reason}\n(GDPR Art. 12(3).)`,
      };
}

export function closedMail(lang: Lang, requestId: string, state: 'fulfilled' | 'denied', summary: string) {
  return lang === 'fr'
    ? {
        subject: `Votre demande ${requestId} : ${state === 'fulfilled' ? 'traitée' : 'refusée'}`,
        text: `${summary}\n\nVous pouvez introduire une réclamation auprès d'une autorité de contrôle (par exemple la CNIL).`,
      }
    : {
        subject: `Your request ${requestId}: ${state}`,
        text: `${summary}\n\nYou may lodge a complaint with a supervisory authority.`,
      };
}

import { consoleFr } from './console.fr.js';
import type { PortalAction } from './text.js';
import type { RecipientText, UiText, WordsText } from './ui.en.js';

export const wordsFr: WordsText = {
  optional: '(facultatif)',
  drop: ['Déposez une photo ici ou', 'choisissez un fichier'],
  refused: 'Cela n’a pas abouti :',
  quality: {
    good: 'Votre photo est nette et votre visage assez grand : bonne qualité pour la reconnaissance.',
    fair: 'Votre photo est utilisable. Une photo plus nette, plus proche du visage, serait reconnue plus sûrement ; vous pouvez en ajouter une à tout moment.',
    poor: 'Votre photo est difficile à reconnaître (petite, floue ou de profil). Vous pouvez recommencer avec une photo plus nette.',
  },
  enrolledNext: (purpose, duration) =>
    `Et ensuite : votre visage peut désormais être reconnu pour « ${purpose} ». Il est conservé ${duration} après votre dernière interaction, puis supprimé. Vous pouvez le consulter, retirer votre consentement ou vous faire effacer à tout moment sous « Que détenez-vous sur moi ? ».`,
  codeNext:
    'Ensuite : ouvrez l’e-mail et saisissez ici le code à 6 chiffres. Rien après quelques minutes ? Regardez dans vos indésirables, ou recommencez.',
  dataNext:
    'Et ensuite : rien, sauf si vous le demandez. Téléchargez tout ci-dessous, ou choisissez une action : chacune vous demande de confirmer.',
  actionNext: {
    'withdraw-consent':
      'Et ensuite : votre visage n’est plus reconnu et ses gabarits sont détruits. Vous n’avez rien d’autre à faire.',
    erasure:
      'Et ensuite : plus rien n’est conservé sur vous, et la clé qui le protégeait est détruite. Gardez le certificat : il prouve l’effacement.',
    restriction:
      'Et ensuite : vos données sont conservées mais ni utilisées ni comparées. Redemandez ici pour lever la limitation.',
    objection:
      'Et ensuite : vos données sont effacées et votre visage n’est gardé que sur une liste d’exclusion, pour que personne ne puisse l’enrôler à nouveau.',
    contest:
      'Et ensuite : notre délégué à la protection des données réexamine les recherches qui vous ont reconnu(e) dans le délai légal, et vous écrit le résultat.',
  } as Record<PortalAction, string>,
  confirmYes: 'Oui, continuer',
  cancel: 'Annuler',
  keptFor: (d) => `conservées ${d} après votre dernière interaction`,
  basis: {
    consent: 'votre consentement',
    contract: 'un contrat avec vous',
    'legal-obligation': 'une obligation légale',
    'vital-interests': 'des intérêts vitaux',
    'public-task': 'une mission d’intérêt public',
    'legitimate-interests': 'des intérêts légitimes',
  },
  consentState: { given: 'donné', withdrawn: 'retiré', expired: 'expiré' },
  viewed: 'Qui a consulté votre dossier',
  viewWhat: {
    list: 'dans une liste de personnes',
    record: 'votre dossier',
    photo: 'votre photo d’enrôlement',
    sighting: 'une photo où vous apparaissez',
  },
  recipientsLabel: 'Communiqué à',
};

export const recipientsFr: RecipientText = {
  key: (name, role) => `${name} (${role})`,
  roles: {
    admin: 'administrateur',
    operator: 'opérateur',
    investigator: 'enquêteur',
    dpo: 'délégué à la protection des données',
    auditor: 'auditeur',
  },
  cli: 'un administrateur, en ligne de commande',
  system: 'Veil lui-même (une tâche automatique)',
  agent: 'votre mandataire',
  you: 'vous',
  unknown: 'un membre du personnel',
};

export const uiFr: UiText = { words: wordsFr, recipients: recipientsFr, console: consoleFr };

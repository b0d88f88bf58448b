import type { MatchesText } from './console-matches.en.js';

/** Les mots de la console pour le contrôle humain des identifications (règlement IA, art. 14(5)). */
export const matchesFr: MatchesText = {
  matches: {
    unconfirmed: (n, of) => `non confirmée (${n} sur ${of})`,
    confirmed: 'confirmée',
    rejected: 'rejetée',
    rule: (n) =>
      `Cette finalité exige que chaque correspondance soit confirmée par ${n} personnes différentes avant toute action (règlement IA, art. 14(5)). D’ici là, ce n’est qu’une piste.`,
    confirm: 'Confirmer',
    reject: 'Rejeter',
    confirmQ:
      'Confirmer cette correspondance ? Vous attestez avoir comparé les visages vous-même. Elle compte une fois confirmée par assez de personnes différentes.',
    rejectQ: 'Rejeter cette correspondance ? Elle ne compte plus pour personne et ne pourra plus être confirmée.',
    nowConfirmed: 'Confirmée : la correspondance compte.',
    stillUnconfirmed: (n, of) => `Enregistré : ${n} confirmation(s) sur ${of}.`,
    nowRejected: 'Rejetée.',
    contested: 'Correspondances contestées par la personne',
    contestedNone: 'Aucune identification n’a désigné cette personne.',
    searchBy: (by, rank) => `par ${by}, rang ${rank}`,
    rejectedN: (n) => `${n} correspondance(s) rejetée(s)`,
  },
};

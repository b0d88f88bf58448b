/** The console's words for human oversight of identifications (EU AI Act Art. 14(5)), in English. */
export const matchesEn = {
  matches: {
    unconfirmed: (n: number, of: number) => `unconfirmed (${n} of ${of})`,
    confirmed: 'confirmed',
    rejected: 'rejected',
    rule: (n: number) =>
      `This purpose requires each match to be confirmed by ${n} different people before anyone acts on it (EU AI Act Art. 14(5)). Until then it is only a lead.`,
    confirm: 'Confirm',
    reject: 'Reject',
    confirmQ:
      'Confirm this match? You state that you compared the faces yourself. It counts once enough different people confirmed it.',
    rejectQ: 'Reject this match? It stops counting for everyone and cannot be confirmed again.',
    nowConfirmed: 'Confirmed: the match counts.',
    stillUnconfirmed: (n: number, of: number) => `Recorded: ${n} of ${of} confirmations.`,
    nowRejected: 'Rejected.',
    contested: 'Matches the person contests',
    contestedNone: 'No identification returned this person.',
    searchBy: (by: string, rank: number) => `by ${by}, rank ${rank}`,
    rejectedN: (n: number) => `${n} match${n === 1 ? '' : 'es'} rejected`,
  },
};

export type MatchesText = typeof matchesEn;

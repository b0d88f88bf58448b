/** What `veil identify` prints: one line per face searched, largest first. */
export interface IdentifyAnswer {
  readonly searchId: string;
  readonly threshold: number;
  readonly facesInProbe: number;
  readonly faces: readonly {
    readonly face: number;
    readonly box: { x: number; y: number; width: number; height: number };
    readonly decision: 'match' | 'no-match';
    readonly candidates: readonly {
      subjectId: string;
      similarity: number;
      rank: number;
      estimatedFalseMatchRate: number;
      confirmation?: { required: number; state: string; confirmations: number };
    }[];
  }[];
}

export function identifyLines(r: IdentifyAnswer): string {
  const lines = r.faces.map((f) => {
    const b = f.box;
    const where = `face ${f.face + 1} at ${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}x${Math.round(b.height)}`;
    if (!f.candidates.length) return `${where}: no match above threshold ${r.threshold}`;
    const who = f.candidates.map(
      (c) =>
        `#${c.rank} ${c.subjectId} similarity ${c.similarity} (estimated false-match rate ${c.estimatedFalseMatchRate})${confirmationNote(c.confirmation)}`,
    );
    return `${where}: ${who.join('; ')}`;
  });
  if (r.facesInProbe > r.faces.length)
    lines.push(`(${r.facesInProbe - r.faces.length} smaller faces not searched: at most ${r.faces.length})`);
  if (r.faces.some((f) => f.candidates.some((c) => c.confirmation?.state === 'unconfirmed')))
    lines.push(
      `search ${r.searchId}: a match counts once confirmed: veil matches confirm ${r.searchId} --face N --subject S`,
    );
  return lines.join('\n');
}

/** Under the two-person rule (EU AI Act Art. 14(5)): a match is only a lead until confirmed. */
function confirmationNote(c: { required: number; state: string; confirmations: number } | undefined): string {
  if (!c || c.state === 'not-required') return '';
  return c.state === 'unconfirmed' ? ` UNCONFIRMED (${c.confirmations} of ${c.required})` : ` ${c.state}`;
}

/** One match of an identification with its state under the two-person rule and who decided what. */
export function matchLine(m: {
  readonly face: number;
  readonly subjectId: string;
  readonly rank: number;
  readonly similarity: number;
  readonly confirmation: { required: number; state: string; confirmations: number };
  readonly decisions: readonly { by: string; decision: string; at: string }[];
}): string {
  const c = m.confirmation;
  const state =
    c.state === 'unconfirmed' ? `unconfirmed (${c.confirmations} of ${c.required})` : c.state.replace('-', ' ');
  const by = m.decisions.map((d) => `${d.decision}ed by ${d.by} at ${d.at}`).join('; ');
  return `face ${m.face + 1} ${m.subjectId} #${m.rank} similarity ${m.similarity}: ${state}${by ? ` (${by})` : ''}`;
}

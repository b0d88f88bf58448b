import { useState } from 'preact/hooks';
import { api, fmtDateTime, html } from '../lib.js';
import { ConfirmAction, ErrorText } from '../ui.js';
import { getKey, subjectHref, useC, useLoad } from './shared.js';

/** A match's state under the two-person rule (EU AI Act Art. 14(5)), as the API gives it. */
export interface Confirmation {
  required: number;
  state: 'not-required' | 'unconfirmed' | 'confirmed' | 'rejected';
  confirmations: number;
}

/** A match's state as a badge: unconfirmed (n of N), confirmed, rejected. */
export function MatchState({ c: k }: { c: Confirmation }) {
  const t = useC().matches;
  if (k.state === 'confirmed') return html`<span class="badge ok">${t.confirmed}</span>`;
  if (k.state === 'rejected') return html`<span class="badge danger">${t.rejected}</span>`;
  if (k.state === 'unconfirmed')
    return html`<span class="badge warn">${t.unconfirmed(k.confirmations, k.required)}</span>`;
  return null;
}

/**
 * A candidate's confirmation state and the Confirm / Reject actions (asked in the page first).
 * `face` is the face's position in the search record, as the API numbers it.
 */
export function MatchConfirmation({
  searchId,
  face,
  subjectId,
  initial,
}: {
  searchId: string;
  face: number;
  subjectId: string;
  initial: Confirmation;
}) {
  const c = useC();
  const t = c.matches;
  const [conf, setConf] = useState(initial);
  const decide = (decision: 'confirm' | 'reject') => async () => {
    const url = `/v1/searches/${encodeURIComponent(searchId)}/faces/${face}/candidates/${encodeURIComponent(subjectId)}/${decision}`;
    const r = await api<{ confirmation: Confirmation }>('POST', url, {}, getKey());
    setConf(r.confirmation);
    const n = r.confirmation;
    if (n.state === 'rejected') return t.nowRejected;
    if (n.state === 'confirmed') return t.nowConfirmed;
    return { text: t.stillUnconfirmed(n.confirmations, n.required), tone: 'warn' as const };
  };
  return html`<div class="match-confirmation" data-testid="match-confirmation" data-state=${conf.state}>
    <${MatchState} c=${conf} />
    ${
      conf.state === 'rejected'
        ? null
        : html`<span class="actions">
            ${
              conf.state === 'confirmed'
                ? null
                : html`<${ConfirmAction}
                    label=${t.confirm}
                    question=${t.confirmQ}
                    words=${c.confirm}
                    run=${decide('confirm')}
                    small=${true}
                    testid="confirm-match"
                  />`
            }
            <${ConfirmAction}
              label=${t.reject}
              tone="danger"
              question=${t.rejectQ}
              words=${c.confirm}
              run=${decide('reject')}
              small=${true}
              testid="reject-match"
            />
          </span>`
    }
  </div>`;
}

interface Contested {
  subjectId: string;
  searchId: string;
  face: number;
  purpose: string;
  at: string;
  by: string;
  rank: number;
  similarity: number;
  confirmation: Confirmation;
}

/** A contest in the rights queue: the identifications that returned the person, and where each match stands. */
export function ContestedPanel({ id }: { id: string }) {
  const c = useC();
  const t = c.matches;
  const [r, error] = useLoad<{ contested?: Contested[] }>(`/v1/rights/requests/${encodeURIComponent(id)}`);
  const label = (k: Confirmation) =>
    k.state === 'unconfirmed'
      ? t.unconfirmed(k.confirmations, k.required)
      : k.state === 'not-required'
        ? '—'
        : t[k.state];
  return html`<div class="callout" data-testid="contested" data-request=${id}>
    <strong>${t.contested}</strong>
    <${ErrorText} error=${error} />
    ${
      r && !r.contested?.length
        ? html`<p class="muted">${t.contestedNone}</p>`
        : html`<ul>
            ${(r?.contested ?? []).map(
              (m) =>
                html`<li>
                  ${fmtDateTime(m.at)} — <code>${m.purpose}</code>${' — '}<a href=${subjectHref(m.subjectId)}
                    ><code>${m.subjectId}</code></a
                  >
                  ${` ${t.searchBy(m.by, m.rank)}, ${m.similarity.toFixed(3)} — `}<strong
                    >${label(m.confirmation)}</strong
                  >
                  <span class="muted mono"> ${m.searchId}</span>
                </li>`,
            )}
          </ul>`
    }
  </div>`;
}

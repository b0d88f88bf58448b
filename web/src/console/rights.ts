import { useState } from 'preact/hooks';
import { api, fmtDay, html } from '../lib.js';
import { ConfirmAction, ErrorText } from '../ui.js';
import { getKey, subjectHref, useC, useLoad } from './shared.js';
import type { ConsoleText } from '../i18n.js';
import { ContestedPanel } from './match-confirmation.js';

interface ReviewItem {
  subjectId: string;
  why: 'face-only' | 'non-consent-purpose';
  similarity: number | null;
  decision?: 'approved' | 'rejected';
}

interface Review {
  state: 'pending' | 'approved' | 'rejected';
  items: ReviewItem[];
  approved: string[];
  liveness: string;
  note: string | null;
  by: string | null;
  at: string | null;
}

interface Req {
  id: string;
  kind: string;
  state: string;
  receivedAt: string;
  dueAt: string;
  extendedDueAt: string | null;
  daysLeft: number;
  overdue: boolean;
  verification: string | null;
  matchedSubjects: string[];
  review: Review | null;
  outcome: Record<string, unknown> | null;
  closedAt: string | null;
}

const n = (v: unknown) => (typeof v === 'number' ? v : 0);

/** What a fulfilled request did, in words; a restriction or erasure that found nobody says so (tone warn). */
export function outcomeOf(
  c: ConsoleText,
  kind: string,
  o: Record<string, unknown> | null,
): { tone: 'ok' | 'warn'; text: string } | null {
  if (!o) return null;
  const t = c.outcome;
  if (kind === 'erasure' || kind === 'objection') {
    const found = n(o['erased']) + n(o['alreadyErased']);
    return found
      ? { tone: 'ok', text: t.erased(n(o['erased']), n(o['alreadyErased'])) }
      : { tone: 'warn', text: t.erasedNone };
  }
  if (kind === 'restriction' || kind === 'lift-restriction')
    return n(o['subjects'])
      ? { tone: 'ok', text: t.restricted(n(o['subjects']), n(o['changed'])) }
      : { tone: 'warn', text: t.restrictedNone };
  if (kind === 'access' || kind === 'portability')
    return n(o['subjects'])
      ? { tone: 'ok', text: t.exported(n(o['subjects']), n(o['files'])) }
      : { tone: 'warn', text: t.exportedNone };
  if (kind === 'withdraw-consent')
    return n(o['consentsWithdrawn'])
      ? { tone: 'ok', text: t.withdrawn(n(o['consentsWithdrawn'])) }
      : { tone: 'warn', text: t.withdrawnNone };
  if (kind === 'contest') return { tone: 'ok', text: c.matches.rejectedN(n(o['matchesRejected'])) };
  if (kind === 'rectification')
    return { tone: 'ok', text: t.rectified(n(o['templatesRemoved']), Boolean(o['contactUpdated'])) };
  return { tone: 'ok', text: t.done };
}

/** What waits for the DPO in one request, and the decision with its reason (recorded in the audit log). */
function ReviewPanel({ r, review, onDone }: { r: Req; review: Review; onDone: (message: string) => void }) {
  const c = useC();
  const t = c.rights;
  const [note, setNote] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const decide = async (decision: 'approve' | 'reject') => {
    setErr(null);
    if (note.trim().length < 5) return setErr(t.needReason);
    setBusy(true);
    try {
      const res = await api<{ request: Req }>(
        'POST',
        `/v1/rights/requests/${encodeURIComponent(r.id)}/review`,
        { decision, note: note.trim() },
        getKey(),
      );
      onDone(
        t.reviewed(
          r.id,
          decision,
          c.requestState[res.request.state as keyof typeof c.requestState] ?? res.request.state,
        ),
      );
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  const id = `note-${r.id}`;
  return html`<div class="callout warn" data-testid="review" data-request=${r.id}>
    <strong>${t.waiting}</strong>
    <p class="muted">${t.reviewIntro(r.verification ?? '—', r.matchedSubjects.length)}</p>
    ${
      review.items.length
        ? html`<ul data-testid="review-evidence">
            ${review.items.map(
              (i) =>
                html`<li>
                  <a href=${subjectHref(i.subjectId)}><code>${i.subjectId}</code></a>
                  ${` — ${t.why[i.why]}; ${t.similarity} ${i.similarity === null ? 'n/a' : i.similarity.toFixed(4)}; ${t.liveness}: ${c.liveness[review.liveness as keyof typeof c.liveness] ?? review.liveness}`}
                  ${i.decision ? html` — <strong data-testid="item-decision">${t.itemDecision[i.decision]}</strong>` : ''}
                </li>`,
            )}
          </ul>`
        : html`<p data-testid="review-evidence">
            ${t.nothingBeyond(c.liveness[review.liveness as keyof typeof c.liveness] ?? review.liveness)}
          </p>`
    }
    <label for=${id}>${t.reason}</label>
    <textarea
      id=${id}
      rows="2"
      value=${note}
      onInput=${(e: Event) => setNote((e.target as HTMLTextAreaElement).value)}
    ></textarea>
    <div class="actions">
      <button disabled=${busy} onClick=${() => decide('approve')}>${t.approve}</button>
      <button class="secondary" disabled=${busy} onClick=${() => decide('reject')}>${t.reject}</button>
    </div>
    <${ErrorText} error=${err} />
  </div>`;
}

const CLOSED = ['fulfilled', 'denied', 'expired', 'withdrawn'];

export function Rights() {
  const c = useC();
  const t = c.rights;
  const [onlyReview, setOnlyReview] = useState(false);
  const [list, error, reload] = useLoad<{ items: Req[]; open: number; overdue: number; awaitingReview?: number }>(
    `/v1/rights/requests?limit=200${onlyReview ? '&review=true' : ''}`,
  );
  const [status, setStatus] = useState<string | null>(null);
  const base = (id: string) => `/v1/rights/requests/${encodeURIComponent(id)}`;
  const fulfil = (r: Req) => async () => {
    const res = await api<{ request: Req }>('POST', `${base(r.id)}/fulfil`, {}, getKey());
    reload();
    return outcomeOf(c, r.kind, res.request.outcome) ?? c.requestState.fulfilled;
  };
  const extend = (r: Req) => async (v: Record<string, string>) => {
    const res = await api<Req>('POST', `${base(r.id)}/extend`, { months: 2, reason: v[`x-${r.id}`] }, getKey());
    reload();
    return t.extended(fmtDay(res.extendedDueAt));
  };
  const deny = (r: Req) => async (v: Record<string, string>) => {
    await api('POST', `${base(r.id)}/deny`, { reason: v[`d-${r.id}`], ground: v[`g-${r.id}`] }, getKey());
    reload();
    return t.denied;
  };
  const reviewed = (message: string) => {
    setStatus(message);
    reload();
  };
  return html`<h1>${t.title}</h1>
    <${ErrorText} error=${error} />
    ${list ? html`<p>${t.counts(list.open, list.overdue, list.awaitingReview)}</p>` : null}
    <label class="check">
      <input
        type="checkbox"
        checked=${onlyReview}
        onChange=${(e: Event) => setOnlyReview((e.target as HTMLInputElement).checked)}
      />
      <span>${t.onlyReview}</span>
    </label>
    ${status ? html`<p class="ok" role="status">${status}</p>` : null}
    <div class="table-wrap" data-testid="rights-table">
      <table>
        <thead>
          <tr>
            <th>${t.request}</th>
            <th>${t.kind}</th>
            <th>${c.status}</th>
            <th>${t.due}</th>
            <th>${t.daysLeft}</th>
            <th>${t.outcome}</th>
            <th>${c.actions}</th>
          </tr>
        </thead>
        <tbody>
          ${(list?.items ?? []).map((r) => {
            const review = r.review;
            const pending = review?.state === 'pending';
            const out = outcomeOf(c, r.kind, r.outcome);
            return html`<tr data-testid="request-row">
                <td>
                  <code>${r.id}</code>
                  <div class="muted">${fmtDay(r.receivedAt)}</div>
                </td>
                <td>${c.kind[r.kind as keyof typeof c.kind] ?? r.kind}</td>
                <td data-testid="request-state">
                  ${c.requestState[r.state as keyof typeof c.requestState] ?? r.state}
                  <span class="sr-only">(${r.state})</span>
                  ${pending ? html` <span class="badge warn" data-testid="review-badge">${t.reviewBadge}</span>` : null}
                  ${review && !pending ? html`<br /><span class="muted">${t.reviewState(review.state)}</span>` : null}
                </td>
                <td class="nowrap">${fmtDay(r.extendedDueAt ?? r.dueAt)}</td>
                <td class=${r.overdue ? 'overdue' : ''}>
                  ${CLOSED.includes(r.state) ? (r.closedAt && r.closedAt <= (r.extendedDueAt ?? r.dueAt) ? t.onTime : t.late) : r.daysLeft}
                </td>
                <td data-testid="request-outcome">
                  ${out ? html`<span class=${out.tone === 'warn' ? 'badge warn' : 'ok'}>${out.text}</span>` : null}
                </td>
                <td>
                  ${r.state === 'verified' ? html`<${ConfirmAction} small=${true} label=${t.fulfil} question=${t.fulfilQ(c.kind[r.kind as keyof typeof c.kind] ?? r.kind)} words=${c.confirm} run=${fulfil(r)} />` : null}
                  ${
                    ['received', 'identity_pending', 'verified'].includes(r.state)
                      ? html`<${ConfirmAction}
                            small=${true}
                            label=${t.extend}
                            question=${t.extendQ}
                            words=${c.confirm}
                            fields=${[{ id: `x-${r.id}`, label: t.extendReason, multiline: true }]}
                            run=${extend(r)}
                          /><${ConfirmAction}
                            small=${true}
                            tone="danger"
                            label=${t.deny}
                            question=${t.denyQ}
                            words=${c.confirm}
                            fields=${[
                              { id: `d-${r.id}`, label: t.denyReason, multiline: true },
                              { id: `g-${r.id}`, label: t.denyGround, hint: t.denyGroundHint },
                            ]}
                            run=${deny(r)}
                          />`
                      : null
                  }
                </td>
              </tr>
              ${
                pending
                  ? html`<tr>
                      <td colspan="7"><${ReviewPanel} r=${r} review=${review} onDone=${reviewed} /></td>
                    </tr>`
                  : null
              }
              ${
                r.kind === 'contest' && !CLOSED.includes(r.state)
                  ? html`<tr>
                      <td colspan="7"><${ContestedPanel} id=${r.id} /></td>
                    </tr>`
                  : null
              }`;
          })}
        </tbody>
      </table>
    </div>`;
}

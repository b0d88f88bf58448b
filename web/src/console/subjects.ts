import { useState } from 'preact/hooks';
import { fmtDay, html, value } from '../lib.js';
import { Empty, ErrorText, Field } from '../ui.js';
import { PurposeSelect, subjectHref, useC, useLoad, usePurposes } from './shared.js';

interface Item {
  id: string;
  state: 'active' | 'restricted' | 'erased';
  createdAt: string;
  purposes: string[];
  consents: { id: string; purpose: string; state: string }[];
  templates: number;
  lastInteractionAt: string | null;
}

export function StateBadge({ state }: { state: string }) {
  const c = useC();
  const tone = state === 'active' ? 'ok' : state === 'restricted' ? 'warn' : 'neutral';
  return html`<span class=${`badge ${tone}`}>${c.state[state as keyof typeof c.state] ?? state}</span>`;
}

/** Subjects under this key's purposes: search, filters and pages. Each page shown is an audited disclosure. */
export function Subjects() {
  const c = useC();
  const s = c.subjects;
  const purposes = usePurposes();
  const [q, setQ] = useState('');
  const [purpose, setPurpose] = useState('');
  const [state, setState] = useState('');
  const [applied, setApplied] = useState({ q: '', purpose: '', state: '' });
  const [cursors, setCursors] = useState<string[]>([]);
  const params = new URLSearchParams({ limit: '20' });
  if (applied.q) params.set('q', applied.q);
  if (applied.purpose) params.set('purpose', applied.purpose);
  if (applied.state) params.set('state', applied.state);
  if (cursors.length) params.set('cursor', cursors.at(-1)!);
  const [list, error] = useLoad<{ items: Item[]; nextCursor: string | null; total: number }>(`/v1/subjects?${params}`);
  const search = (e: Event) => {
    e.preventDefault();
    setCursors([]);
    setApplied({ q: q.trim(), purpose, state });
  };
  return html`<div class="page-head"><h1>${s.title}</h1></div>
    <p class="lede">${s.intro}</p>
    <form class="card" onSubmit=${search} role="search" aria-label=${s.search}>
      <div class="row">
        <${Field} id="s-q" label=${s.query} hint=${s.queryHint}>
          <input id="s-q" type="search" aria-describedby="s-q-hint" value=${q} onInput=${value(setQ)} />
        <//>
        <${Field} id="s-purpose" label=${c.purpose}>
          <${PurposeSelect}
            id="s-purpose"
            purposes=${purposes}
            value=${purpose}
            onChange=${setPurpose}
            allowSuspended=${true}
            any=${s.anyPurpose}
          />
        <//>
        <${Field} id="s-state" label=${c.status}>
          <select
            id="s-state"
            class="short"
            value=${state}
            onChange=${(e: Event) => setState((e.target as HTMLSelectElement).value)}
          >
            <option value="">${s.anyState}</option>
            <option value="active">${c.state.active}</option>
            <option value="restricted">${c.state.restricted}</option>
          </select>
        <//>
      </div>
      <button type="submit">${s.search}</button>
    </form>
    <${ErrorText} error=${error} />
    ${list ? html`<p class="muted" role="status" data-testid="subjects-total">${s.total(list.total)}</p>` : null}
    ${
      list && !list.items.length
        ? html`<${Empty}>${applied.q || applied.purpose || applied.state ? s.noMatch : s.none}<//>`
        : list
          ? html`<div class="table-wrap">
              <table data-testid="subjects-table">
                <thead>
                  <tr>
                    <th>${s.subject}</th>
                    <th>${c.status}</th>
                    <th>${s.purposes}</th>
                    <th>${s.consents}</th>
                    <th class="num">${s.templates}</th>
                    <th>${s.last}</th>
                  </tr>
                </thead>
                <tbody>
                  ${list.items.map(
                    (x) =>
                      html`<tr data-testid="subject-row">
                        <td>
                          <a href=${subjectHref(x.id)}><code>${x.id}</code></a>
                        </td>
                        <td><${StateBadge} state=${x.state} /></td>
                        <td>${x.purposes.map((p) => html`<span class="badge neutral">${p}</span> `)}</td>
                        <td>
                          ${x.consents.length ? x.consents.map((k) => html`<div><code>${k.id}</code> · ${c.consentState[k.state as keyof typeof c.consentState] ?? k.state}</div>`) : html`<span class="muted">${s.noConsent}</span>`}
                        </td>
                        <td class="num">${x.templates}</td>
                        <td class="nowrap">${fmtDay(x.lastInteractionAt) || '—'}</td>
                      </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
          : null
    }
    <nav class="pager" aria-label=${s.pages}>
      <button class="secondary small" disabled=${!cursors.length} onClick=${() => setCursors(cursors.slice(0, -1))}>
        ${s.prev}
      </button>
      <button
        class="secondary small"
        disabled=${!list?.nextCursor}
        onClick=${() => list?.nextCursor && setCursors([...cursors, list.nextCursor])}
      >
        ${s.next}
      </button>
    </nav>
    <p class="muted">${s.audited}</p>`;
}

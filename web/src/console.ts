import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, apiBlob, download, fmtDate, html, toBase64 } from './lib.js';

const KEY = 'veil.console.key';
export const getKey = () => sessionStorage.getItem(KEY);

function Err({ error }: { error: unknown }) {
  if (!error) return null;
  return html`<p class="error" role="alert">
    ${error instanceof ApiError ? `${error.code}: ${error.message}` : String(error)}
  </p>`;
}

function useLoad<T>(path: string | null, deps: unknown[] = []): [T | null, unknown, () => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    if (path) api<T>('GET', path, undefined, getKey()).then(setData, setError);
  }, [path, n, ...deps]);
  return [data, error, () => setN((x) => x + 1)];
}

export function Login({ onDone }: { onDone: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api('GET', '/v1/stats', undefined, key.trim());
      sessionStorage.setItem(KEY, key.trim());
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`<h1>Operator console</h1>
    <form onSubmit=${submit}>
      <label for="apikey">API key</label>
      <input
        id="apikey"
        type="password"
        autocomplete="off"
        value=${key}
        onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)}
      />
      <button type="submit">Sign in</button>
    </form>
    <${Err} error=${error} />`;
}

function Bars({ values, label }: { values: { label: string; value: number }[]; label: string }) {
  const max = Math.max(1, ...values.map((v) => v.value));
  return html`<div class="bars" role="img" aria-label=${label}>
    ${values.map((v) => html`<div title=${`${v.label}: ${v.value}`} style=${`height:${(v.value / max) * 100}%`}></div>`)}
  </div>`;
}

interface Stats {
  purposes: { key: string; name: string; status: string; templates: number }[];
  searchesPerDay: { day: string; purpose: string; searches: number }[];
  /** null for keys without oversight (operators, investigators). */
  rights: { open: number; overdue: number; awaitingReview?: number } | null;
  handlingDays: { id: string; kind: string; days: number; onTime: boolean }[];
  breachesOverdue: number | null;
  ordersOverdue: number | null;
}

export function Dashboard() {
  const [s, error] = useLoad<Stats>('/v1/stats');
  if (!s)
    return html`<h1>Dashboard</h1>
      <${Err} error=${error} />`;
  const days = new Map<string, number>();
  for (const x of s.searchesPerDay) days.set(x.day, (days.get(x.day) ?? 0) + x.searches);
  return html`<h1>Dashboard</h1>
    ${
      s.rights
        ? html`<dl class="card facts" data-testid="oversight">
            <div>
              <dt>Rights requests open</dt>
              <dd>${s.rights.open}</dd>
            </div>
            <div>
              <dt>Rights requests overdue</dt>
              <dd class=${s.rights.overdue ? 'overdue' : ''}>${s.rights.overdue}</dd>
            </div>
            ${
              s.rights.awaitingReview !== undefined
                ? html`<div>
                    <dt>Waiting for review</dt>
                    <dd data-testid="awaiting-review"><a href="#/console/rights">${s.rights.awaitingReview}</a></dd>
                  </div>`
                : null
            }
            <div>
              <dt>Breach notifications overdue</dt>
              <dd class=${s.breachesOverdue ? 'overdue' : ''}>${s.breachesOverdue}</dd>
            </div>
            <div>
              <dt>Orders overdue</dt>
              <dd class=${s.ordersOverdue ? 'overdue' : ''}>${s.ordersOverdue}</dd>
            </div>
          </dl>`
        : null
    }
    <h2>Gallery sizes</h2>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Purpose</th>
            <th>Status</th>
            <th>Matchable templates</th>
          </tr>
        </thead>
        <tbody>
          ${s.purposes.map(
            (p) =>
              html`<tr>
                <td>${p.name} (${p.key})</td>
                <td>${p.status}</td>
                <td>${p.templates}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <h2>Searches per day (14 days)</h2>
    <${Bars} label="Searches per day" values=${[...days].map(([d, v]) => ({ label: d, value: v }))} />
    <p class="muted">
      ${s.searchesPerDay.map((x) => `${x.day} ${x.purpose}: ${x.searches}`).join(' · ') || 'No searches.'}
    </p>
    <h2>Request handling times (days)</h2>
    <${Bars}
      label="Handling time per fulfilled request"
      values=${s.handlingDays.map((h) => ({ label: `${h.kind} ${h.id}`, value: h.days }))}
    />
    <p class="muted">${s.handlingDays.length} fulfilled, ${s.handlingDays.filter((h) => h.onTime).length} on time.</p>`;
}

interface Purpose {
  id: string;
  key: string;
  name: string;
  lawfulBasis: string;
  art9Condition: string;
  retention: string;
  status: string;
  templates?: number;
  requiresCaseRef: boolean;
}

export function Purposes() {
  const [list, error, reload] = useLoad<{ items: Purpose[] }>('/v1/purposes');
  const [form, setForm] = useState<Record<string, string | boolean>>({
    lawfulBasis: 'consent',
    art9Condition: 'explicit-consent',
    retention: 'P1Y',
  });
  const [err, setErr] = useState<unknown>(null);
  const f = (k: string) => (e: Event) =>
    setForm({
      ...form,
      [k]:
        (e.target as HTMLInputElement).type === 'checkbox'
          ? (e.target as HTMLInputElement).checked
          : (e.target as HTMLInputElement).value,
    });
  const create = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    try {
      await api(
        'POST',
        '/v1/purposes',
        {
          ...form,
          recipients: String(form['recipients'] ?? '')
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
          legalReference: form['legalReference'] || null,
        },
        getKey(),
      );
      reload();
    } catch (x) {
      setErr(x);
    }
  };
  return html`<h1>Purposes</h1>
    <${Err} error=${error} />
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Key</th>
            <th>Name</th>
            <th>Lawful basis</th>
            <th>Art. 9(2)</th>
            <th>Retention</th>
            <th>Status</th>
            <th>Templates</th>
          </tr>
        </thead>
        <tbody>
          ${(list?.items ?? []).map(
            (p) =>
              html`<tr>
                <td>${p.key}</td>
                <td>${p.name}</td>
                <td>${p.lawfulBasis}</td>
                <td>${p.art9Condition}</td>
                <td>${p.retention}</td>
                <td>${p.status}</td>
                <td>${p.templates ?? 0}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <h2>Declare a purpose</h2>
    <form onSubmit=${create}>
      <label for="p-key">Key</label><input id="p-key" type="text" onInput=${f('key')} /> <label for="p-name">Name</label
      ><input id="p-name" type="text" onInput=${f('name')} /> <label for="p-desc">Description shown to people</label
      ><textarea id="p-desc" onInput=${f('description')}></textarea>
      <label for="p-basis">Lawful basis (Art. 6)</label>
      <select id="p-basis" onChange=${f('lawfulBasis')}>
        ${['consent', 'contract', 'legal-obligation', 'vital-interests', 'public-task', 'legitimate-interests'].map((b) => html`<option>${b}</option>`)}
      </select>
      <label for="p-art9">Art. 9(2) condition</label>
      <select id="p-art9" onChange=${f('art9Condition')}>
        ${['explicit-consent', 'employment-social-protection', 'vital-interests', 'made-public', 'legal-claims', 'substantial-public-interest'].map((b) => html`<option>${b}</option>`)}
      </select>
      <label for="p-legal">Legal reference (required unless consent)</label
      ><input id="p-legal" type="text" onInput=${f('legalReference')} />
      <label for="p-ret">Retention after last interaction (ISO 8601, at most P3Y)</label
      ><input id="p-ret" type="text" value=${String(form['retention'])} onInput=${f('retention')} />
      <label for="p-rec">Recipients (comma-separated)</label><input id="p-rec" type="text" onInput=${f('recipients')} />
      <label class="check"
        ><input type="checkbox" onChange=${f('requiresCaseRef')} />
        <span>Every search needs a case reference</span></label
      >
      <button type="submit">Create purpose</button><${Err} error=${err} />
    </form>`;
}

export function Subjects() {
  const [id, setId] = useState('');
  const [s, setS] = useState<Record<string, unknown> | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const find = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    try {
      setS(await api('GET', `/v1/subjects/${encodeURIComponent(id.trim())}`, undefined, getKey()));
    } catch (x) {
      setErr(x);
      setS(null);
    }
  };
  return html`<h1>Subjects</h1>
    <form onSubmit=${find}>
      <label for="sid">Subject id</label
      ><input
        id="sid"
        type="text"
        value=${id}
        onInput=${(e: Event) => setId((e.target as HTMLInputElement).value)}
      /><button type="submit">Look up</button>
    </form>
    <${Err} error=${err} />
    ${
      s
        ? html`<div class="card">
            <p>
              <strong>${String(s['id'])}</strong> — state ${String(s['state'])}, ${String(s['sightings'])} sighting(s)
            </p>
            <h2>Consents</h2>
            <ul>
              ${(s['consents'] as { id: string; state: string; givenAt: string; method: string }[]).map((c) => html`<li>${c.id}: ${c.state} (${fmtDate(c.givenAt)}, ${c.method})</li>`)}
            </ul>
            <h2>Templates</h2>
            <ul>
              ${(s['templates'] as { id: string; model: string; createdAt: string }[]).map((t) => html`<li>${t.id} — ${t.model}, ${fmtDate(t.createdAt)}</li>`)}
            </ul>
          </div>`
        : null
    }`;
}

interface Candidate {
  subjectId: string;
  similarity: number;
  rank: number;
  estimatedFalseMatchRate: number;
}

export function Identify() {
  const [purposes] = useLoad<{ items: Purpose[] }>('/v1/purposes');
  const [purpose, setPurpose] = useState('');
  const [caseRef, setCaseRef] = useState('');
  const [why, setWhy] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [res, setRes] = useState<{ decision: string; candidates: Candidate[]; threshold: number } | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const go = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setRes(null);
    setBusy(true);
    try {
      setRes(
        await api(
          'POST',
          '/v1/identify',
          {
            purpose: purpose || purposes?.items[0]?.key,
            image: file ? await toBase64(file) : '',
            ...(caseRef ? { caseRef } : {}),
            ...(why ? { justification: why } : {}),
          },
          getKey(),
        ),
      );
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  return html`<h1>Identify</h1>
    <form onSubmit=${go}>
      <label for="i-purpose">Purpose</label
      ><select id="i-purpose" onChange=${(e: Event) => setPurpose((e.target as HTMLSelectElement).value)}>
        ${(purposes?.items ?? []).map((p) => html`<option value=${p.key}>${p.name}</option>`)}
      </select>
      <label for="i-case">Case reference</label
      ><input
        id="i-case"
        type="text"
        value=${caseRef}
        onInput=${(e: Event) => setCaseRef((e.target as HTMLInputElement).value)}
      />
      <label for="i-why">Justification (if no case reference)</label
      ><input
        id="i-why"
        type="text"
        value=${why}
        onInput=${(e: Event) => setWhy((e.target as HTMLInputElement).value)}
      />
      <label for="i-image">Probe photo (never stored)</label
      ><input
        id="i-image"
        type="file"
        accept="image/*"
        onChange=${(e: Event) => setFile((e.target as HTMLInputElement).files?.[0] ?? null)}
      />
      <button type="submit" disabled=${busy}>Search</button>
    </form>
    <${Err} error=${err} /> ${
      res
        ? html`<div class="card" data-testid="identify-result">
            <p>
              <strong>${res.decision === 'match' ? 'Match' : 'No match above threshold'}</strong>
              ${` (threshold ${res.threshold})`}
            </p>
            ${
              res.candidates.length
                ? html`<table>
                    <thead>
                      <tr>
                        <th>#</th>
                        <th>Subject</th>
                        <th>Similarity</th>
                        <th>Est. false-match rate</th>
                      </tr>
                    </thead>
                    <tbody>
                      ${res.candidates.map(
                        (c) =>
                          html`<tr>
                            <td>${c.rank}</td>
                            <td>${c.subjectId}</td>
                            <td>${c.similarity}</td>
                            <td>${c.estimatedFalseMatchRate}</td>
                          </tr>`,
                      )}
                    </tbody>
                  </table>`
                : null
            }
          </div>`
        : null
    }`;
}

export function Media() {
  const [purposes] = useLoad<{ items: Purpose[] }>('/v1/purposes');
  const [purpose, setPurpose] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [done, setDone] = useState<
    { file: string; status: string; mediaId?: string; faces?: number; sightings?: number }[]
  >([]);
  const [preview, setPreview] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const go = async (e: Event) => {
    e.preventDefault();
    setDone([]);
    const out: typeof done = [];
    for (const f of files) {
      try {
        out.push(
          await api(
            'POST',
            '/v1/media',
            { purpose: purpose || purposes?.items[0]?.key, image: await toBase64(f), filename: f.name },
            getKey(),
          ),
        );
      } catch (x) {
        setErr(x);
      }
      setDone([...out]);
    }
  };
  const show = async (id: string) =>
    setPreview(URL.createObjectURL(await apiBlob(`/v1/media/${id}/redacted`, getKey())));
  return html`<h1>Media ingestion</h1>
    <form onSubmit=${go}>
      <label for="m-purpose">Purpose</label
      ><select id="m-purpose" onChange=${(e: Event) => setPurpose((e.target as HTMLSelectElement).value)}>
        ${(purposes?.items ?? []).map((p) => html`<option value=${p.key}>${p.name}</option>`)}
      </select>
      <label for="m-files">Photos</label
      ><input
        id="m-files"
        type="file"
        multiple
        accept="image/*"
        onChange=${(e: Event) => setFiles([...((e.target as HTMLInputElement).files ?? [])])}
      />
      <button type="submit">Ingest</button>
    </form>
    ${files.length ? html`<label for="m-progress">Progress</label><progress id="m-progress" max=${files.length} value=${done.length}></progress> ${done.length}/${files.length}` : null}
    <${Err} error=${err} />
    <ul>
      ${done.map((d) => html`<li>${d.file}: ${d.status}${d.faces !== undefined ? `, ${d.faces} faces, ${d.sightings} sightings` : ''} ${d.mediaId ? html`<button class="secondary" onClick=${() => show(d.mediaId!)}>Redaction preview</button>` : null}</li>`)}
    </ul>
    ${preview ? html`<img src=${preview} alt="Photo with non-consenting faces blurred" style="max-width:100%" />` : null}`;
}

interface ReviewItem {
  subjectId: string;
  why: 'face-only' | 'non-consent-purpose';
  similarity: number | null;
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

const WHY: Record<ReviewItem['why'], string> = {
  'face-only': 'found by the selfie only, not linked to the proven email',
  'non-consent-purpose': 'held under a basis other than consent (Art. 17(3), 18(2))',
};

/** What waits for the DPO in one request, and the decision with its reason (asked here, recorded in the audit log). */
function ReviewPanel({ r, review, onDone }: { r: Req; review: Review; onDone: (message: string) => void }) {
  const [note, setNote] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const decide = async (decision: 'approve' | 'reject') => {
    setErr(null);
    if (note.trim().length < 5) return setErr('Write the reason for your decision first (at least 5 characters).');
    setBusy(true);
    try {
      const res = await api<{ request: Req }>(
        'POST',
        `/v1/rights/requests/${encodeURIComponent(r.id)}/review`,
        { decision, note: note.trim() },
        getKey(),
      );
      onDone(
        `Review of ${r.id} ${decision === 'approve' ? 'approved' : 'rejected'}; the request is now ${res.request.state}.`,
      );
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  const id = `note-${r.id}`;
  return html`<div class="review" data-testid="review" data-request=${r.id}>
    <strong>Waiting for your review</strong>
    <p class="muted">
      Verified by ${r.verification ?? 'unknown'}; ${r.matchedSubjects.length} subject(s) linked to the proven email are
      handled without review. Approve to include the subjects below in this request; reject to keep it to what the email
      links.
    </p>
    ${
      review.items.length
        ? html`<ul data-testid="review-evidence">
            ${review.items.map(
              (i) =>
                html`<li>
                  <code>${i.subjectId}</code>
                  ${` — ${WHY[i.why]}; similarity ${i.similarity === null ? 'n/a' : i.similarity.toFixed(4)}; liveness: ${review.liveness}`}
                </li>`,
            )}
          </ul>`
        : html`<p data-testid="review-evidence">
            Nothing found by the selfie beyond the subjects linked to the proven email (liveness: ${review.liveness}).
          </p>`
    }
    <label for=${id}>Reason for your decision (kept with the request)</label>
    <textarea
      id=${id}
      rows="2"
      value=${note}
      onInput=${(e: Event) => setNote((e.target as HTMLTextAreaElement).value)}
    ></textarea>
    <button disabled=${busy} onClick=${() => decide('approve')}>Approve</button
    ><button class="secondary" disabled=${busy} onClick=${() => decide('reject')}>Reject</button>
    <${Err} error=${err} />
  </div>`;
}

const CLOSED = ['fulfilled', 'denied', 'expired', 'withdrawn'];

export function Rights() {
  const [onlyReview, setOnlyReview] = useState(false);
  const [list, error, reload] = useLoad<{ items: Req[]; open: number; overdue: number; awaitingReview?: number }>(
    `/v1/rights/requests?limit=200${onlyReview ? '&review=true' : ''}`,
  );
  const [failed, setFailed] = useState<{ id: string; error: unknown } | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [evidence, setEvidence] = useState<Record<string, unknown> | null>(null);
  const act = async (id: string, what: 'extend' | 'fulfil' | 'deny') => {
    setFailed(null);
    setStatus(null);
    try {
      if (what === 'extend') {
        const reason = window.prompt('Reason told to the person (at least 10 characters)');
        if (!reason) return;
        await api('POST', `/v1/rights/requests/${id}/extend`, { months: 2, reason }, getKey());
      } else if (what === 'deny') {
        const reason = window.prompt('Reason for the denial');
        const ground = reason && window.prompt('Legal ground (e.g. Art. 12(5)(b))');
        if (!reason || !ground) return;
        await api('POST', `/v1/rights/requests/${id}/deny`, { reason, ground }, getKey());
      } else await api('POST', `/v1/rights/requests/${id}/fulfil`, {}, getKey());
      reload();
    } catch (x) {
      setFailed({ id, error: x });
    }
  };
  const reviewed = (message: string) => {
    setStatus(message);
    setFailed(null);
    reload();
  };
  return html`<h1>Rights queue</h1>
    <${Err} error=${error} />
    ${
      list
        ? html`<p>
            ${`${list.open} open, `}
            <span class=${list.overdue ? 'overdue' : ''}>${`${list.overdue} overdue`}</span>
            ${list.awaitingReview !== undefined ? `, ${list.awaitingReview} waiting for review` : ''}
          </p>`
        : null
    }
    <label class="check"
      ><input
        type="checkbox"
        checked=${onlyReview}
        onChange=${(e: Event) => setOnlyReview((e.target as HTMLInputElement).checked)}
      />
      <span>Only requests waiting for review</span></label
    >
    ${status ? html`<p class="ok" role="status">${status}</p>` : null}
    <div class="table-wrap" data-testid="rights-table">
      <table>
        <thead>
          <tr>
            <th>Request</th>
            <th>Kind</th>
            <th>State</th>
            <th>Due</th>
            <th>Days left</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          ${(list?.items ?? []).map((r) => {
            const review = r.review;
            const pending = review?.state === 'pending';
            return html`<tr data-testid="request-row">
                <td>${r.id}</td>
                <td>${r.kind}</td>
                <td data-testid="request-state">
                  ${r.state} ${pending ? html` <span class="badge" data-testid="review-badge">Review</span>` : null}
                  ${review && !pending ? html`<br /><span class="muted">review ${review.state}</span>` : null}
                </td>
                <td class="nowrap">${fmtDate(r.extendedDueAt ?? r.dueAt)}</td>
                <td class=${r.overdue ? 'overdue' : ''}>
                  ${CLOSED.includes(r.state) ? (r.closedAt && r.closedAt <= (r.extendedDueAt ?? r.dueAt) ? 'on time' : 'late') : r.daysLeft}
                </td>
                <td>
                  ${r.state === 'verified' ? html`<button onClick=${() => act(r.id, 'fulfil')}>Fulfil</button>` : null}
                  ${['received', 'identity_pending', 'verified'].includes(r.state) ? html`<button class="secondary" onClick=${() => act(r.id, 'extend')}>Extend</button><button class="secondary" onClick=${() => act(r.id, 'deny')}>Deny</button>` : null}
                  ${r.outcome || (review && !pending) ? html`<button class="secondary" onClick=${() => setEvidence({ outcome: r.outcome, review })}>Evidence</button>` : null}
                </td>
              </tr>
              ${
                failed?.id === r.id
                  ? html`<tr>
                      <td colspan="6"><${Err} error=${failed.error} /></td>
                    </tr>`
                  : null
              }
              ${
                pending
                  ? html`<tr>
                      <td colspan="6"><${ReviewPanel} r=${r} review=${review} onDone=${reviewed} /></td>
                    </tr>`
                  : null
              }`;
          })}
        </tbody>
      </table>
    </div>
    ${
      evidence
        ? html`<div class="card">
            <h2>Evidence</h2>
            <pre style="white-space:pre-wrap;font-size:.8rem">${JSON.stringify(evidence, null, 2).slice(0, 4000)}</pre>
          </div>`
        : null
    }`;
}

export function Audit() {
  const [head, error] = useLoad<{ size: number; rootHash: string; timestamp: string; keyId: string }>('/v1/audit/head');
  const [report, setReport] = useState<{
    ok: boolean;
    entries: number;
    headsVerified: number;
    ms: number;
    failure?: { message: string };
  } | null>(null);
  const [q, setQ] = useState<Record<string, string>>({});
  const [entries, setEntries] = useState<
    {
      seq: number;
      time: string;
      action: string;
      actor: { kind: string; id: string };
      subjectIds: string[];
      purposeId: string | null;
    }[]
  >([]);
  const [err, setErr] = useState<unknown>(null);
  const verifyNow = async () => setReport(await api('POST', '/v1/audit/verify', undefined, getKey()));
  const search = async (e: Event) => {
    e.preventDefault();
    try {
      const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v));
      setEntries((await api<{ items: typeof entries }>('GET', `/v1/audit/entries?${qs}`, undefined, getKey())).items);
    } catch (x) {
      setErr(x);
    }
  };
  const exportAll = async () => download('veil-audit.jsonl', await apiBlob('/v1/audit/export', getKey()));
  const f = (k: string) => (e: Event) => setQ({ ...q, [k]: (e.target as HTMLInputElement).value });
  return html`<h1>Audit log</h1>
    <${Err} error=${error || err} />
    ${
      head
        ? html`<div class="card">
            <p>
              <strong>Latest signed tree head:</strong> size ${head.size}, root${' '}<code style="word-break:break-all"
                >${head.rootHash}</code
              >, ${head.timestamp}, key ${head.keyId}
            </p>
            <button onClick=${verifyNow}>Verify now</button
            ><button class="secondary" onClick=${exportAll}>Export</button>
            ${report ? html`<p class=${report.ok ? 'ok' : 'error'} role="status">${report.ok ? `OK: ${report.entries} entries, ${report.headsVerified} signed heads verified in ${report.ms} ms` : `FAILED: ${report.failure?.message}`}</p>` : null}
          </div>`
        : null
    }
    <h2>Search entries</h2>
    <form onSubmit=${search}>
      <label for="a-subject">Subject id</label><input id="a-subject" type="text" onInput=${f('subject')} />
      <label for="a-purpose">Purpose id</label><input id="a-purpose" type="text" onInput=${f('purpose')} />
      <label for="a-actor">Actor id</label><input id="a-actor" type="text" onInput=${f('actor')} />
      <label for="a-from">From (ISO time)</label><input id="a-from" type="text" onInput=${f('from')} />
      <label for="a-to">To (ISO time)</label><input id="a-to" type="text" onInput=${f('to')} />
      <button type="submit">Search</button>
    </form>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Seq</th>
            <th>Time</th>
            <th>Action</th>
            <th>Actor</th>
            <th>Subjects</th>
          </tr>
        </thead>
        <tbody>
          ${entries.map(
            (e) =>
              html`<tr>
                <td>${e.seq}</td>
                <td>${e.time}</td>
                <td>${e.action}</td>
                <td>${e.actor.kind}:${e.actor.id}</td>
                <td>${e.subjectIds.join(', ')}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
}

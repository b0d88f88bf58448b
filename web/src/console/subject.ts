import { api, fmtDateTime, fmtDay, html } from '../lib.js';
import { qualityLevel } from '../quality.js';
import { ConfirmAction, Empty, ErrorText } from '../ui.js';
import { StateBadge } from './subjects.js';
import { MatchState, type Confirmation } from './match-confirmation.js';
import { getKey, useC, useImage, useLoad } from './shared.js';

interface SubjectPurpose {
  id: string;
  key: string;
  name: string;
  status: string;
  keepsPhotos: boolean;
  consentId: string | null;
  sourceReference: string | null;
  enrolledAt: string | null;
  lastInteractionAt: string | null;
}

interface Subject {
  id: string;
  state: 'active' | 'restricted' | 'erased';
  createdAt: string;
  updatedAt: string;
  purposes: SubjectPurpose[];
  templates: {
    id: string;
    purposeId: string;
    model: string;
    quality: Record<string, number>;
    createdAt: string;
    hasPhoto: boolean;
  }[];
  consents: {
    id: string;
    purposeId: string;
    state: string;
    givenAt: string;
    method: string;
    collector: string;
    expiresAt: string | null;
    history: { state: string; at: string; actor: string }[];
  }[];
  sightings: number;
  searches: {
    searchId: string;
    kind: string;
    purposeId: string;
    at: string;
    recipient: string;
    caseRef: string | null;
    justification: string | null;
    similarity: number;
    rank: number;
    confirmation?: Confirmation;
  }[];
}

interface Sighting {
  id: string;
  mediaId: string;
  similarity: number;
  purposeId: string;
  ingestedAt: string;
  filename: string;
}

/** A kept photo fetched with the key; when there is none, why. */
export function Thumb({ path, alt, why, large }: { path: string | null; alt: string; why: string; large?: boolean }) {
  const { url, error } = useImage(path);
  if (url) return html`<img class=${`thumb${large ? ' large' : ''}`} src=${url} alt=${alt} />`;
  return html`<span class="nothumb" title=${why}>${path && !error ? '…' : why}</span>`;
}

export function SubjectPage({ id }: { id: string }) {
  const c = useC();
  const t = c.subject;
  const [s, error, reload] = useLoad<Subject>(`/v1/subjects/${encodeURIComponent(id)}`);
  const [sightings] = useLoad<{ items: Sighting[] }>(`/v1/subjects/${encodeURIComponent(id)}/sightings`);
  if (!s)
    return html`<p><a href="#/console/subjects">← ${c.nav.subjects}</a></p>
      <h1>${t.title}</h1>
      <${ErrorText} error=${error} />`;
  const key = (pid: string) => s.purposes.find((p) => p.id === pid)?.key ?? pid;
  const purposeOf = (pid: string) => s.purposes.find((p) => p.id === pid);
  const base = `/v1/subjects/${encodeURIComponent(s.id)}`;
  const restrict = (on: boolean) => async (v: Record<string, string>) => {
    const r = await api<{ changed: boolean }>(
      'POST',
      `${base}/restrict`,
      { restricted: on, reason: v['r-reason'] },
      getKey(),
    );
    reload();
    return on ? (r.changed ? t.restrictedNow : t.alreadyRestricted) : r.changed ? t.liftedNow : t.notRestricted;
  };
  const withdraw = (cid: string) => async () => {
    const r = await api<{ templatesDeleted: number }>(
      'POST',
      `/v1/consents/${encodeURIComponent(cid)}/withdraw`,
      {},
      getKey(),
    );
    reload();
    return t.withdrawn(r.templatesDeleted);
  };
  return html`<p><a href="#/console/subjects">← ${c.nav.subjects}</a></p>
    <div class="page-head">
      <h1>${t.title} <code style="font-size:var(--t-lg)">${s.id}</code></h1>
      <${StateBadge} state=${s.state} />
    </div>
    <p class="muted">${t.since(fmtDay(s.createdAt))}</p>
    <section class="card" data-testid="dpo-actions">
      <h2>${t.actions}</h2>
      <p class="muted">${t.actionsHint}</p>
      ${
        s.state === 'restricted'
          ? html`<${ConfirmAction}
              label=${t.lift}
              question=${t.liftQ}
              words=${c.confirm}
              fields=${[{ id: 'r-reason', label: c.reason }]}
              run=${restrict(false)}
            />`
          : html`<${ConfirmAction}
              label=${t.restrict}
              tone="danger"
              question=${t.restrictQ}
              words=${c.confirm}
              fields=${[{ id: 'r-reason', label: c.reason }]}
              run=${restrict(true)}
            />`
      }
    </section>
    <h2>${t.purposes}</h2>
    <div class="grid">
      ${s.purposes.map(
        (p) =>
          html`<div class="card" data-testid="subject-purpose">
            <div style="display:flex;gap:var(--s3);align-items:flex-start">
              <${Thumb}
                large=${true}
                path=${p.keepsPhotos && s.state === 'active' ? `${base}/photo?purpose=${encodeURIComponent(p.key)}` : null}
                alt=${t.photoAlt(p.name)}
                why=${s.state !== 'active' ? t.noPhotoState : p.keepsPhotos ? t.noPhotoKept : t.noPhotoPurpose}
              />
              <dl class="facts">
                <dt>${c.purpose}</dt>
                <dd>${p.name} <span class="muted">(${p.key})</span></dd>
                <dt>${t.basis}</dt>
                <dd>
                  ${p.consentId ? html`${t.consent} <code>${p.consentId}</code>` : p.sourceReference ? html`${t.source} ${p.sourceReference}` : '—'}
                </dd>
                <dt>${t.enrolled}</dt>
                <dd>${fmtDay(p.enrolledAt) || '—'}</dd>
                <dt>${t.last}</dt>
                <dd>${fmtDay(p.lastInteractionAt) || '—'}</dd>
              </dl>
            </div>
          </div>`,
      )}
    </div>
    <h2>${t.consents}</h2>
    ${
      s.consents.length
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t.consents}>
            <table data-testid="subject-consents">
              <thead>
                <tr>
                  <th>${t.consent}</th>
                  <th>${c.purpose}</th>
                  <th>${c.status}</th>
                  <th>${t.given}</th>
                  <th>${t.history}</th>
                  <th>${c.actions}</th>
                </tr>
              </thead>
              <tbody>
                ${s.consents.map(
                  (k) =>
                    html`<tr>
                      <td><code>${k.id}</code></td>
                      <td>${key(k.purposeId)}</td>
                      <td>${c.consentState[k.state as keyof typeof c.consentState] ?? k.state}</td>
                      <td class="nowrap">
                        ${fmtDay(k.givenAt)}<br /><span class="muted">${k.method}, ${k.collector}</span>
                      </td>
                      <td>
                        <ul class="plain">
                          ${k.history.map((h) => html`<li>${c.consentState[h.state as keyof typeof c.consentState] ?? h.state} · ${fmtDateTime(h.at)} · <code>${h.actor}</code></li>`)}
                        </ul>
                      </td>
                      <td>
                        ${k.state === 'given' ? html`<${ConfirmAction} small=${true} tone="danger" label=${t.withdraw} question=${t.withdrawQ} words=${c.confirm} run=${withdraw(k.id)} />` : null}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : html`<${Empty}>${t.noConsents}<//>`
    }
    <h2>${t.templates}</h2>
    ${
      s.templates.length
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t.templates}>
            <table data-testid="subject-templates">
              <thead>
                <tr>
                  <th>${t.photo}</th>
                  <th>${t.template}</th>
                  <th>${c.purpose}</th>
                  <th>${t.quality}</th>
                  <th>${t.added}</th>
                </tr>
              </thead>
              <tbody>
                ${s.templates.map((x) => {
                  const level = qualityLevel(x.quality);
                  const p = purposeOf(x.purposeId);
                  return html`<tr>
                    <td>
                      <${Thumb}
                        path=${x.hasPhoto && s.state === 'active' ? `${base}/photo?template=${encodeURIComponent(x.id)}` : null}
                        alt=${t.photoAlt(p?.name ?? '')}
                        why=${s.state !== 'active' ? t.noPhotoState : x.hasPhoto ? t.noPhotoKept : t.noPhotoPurpose}
                      />
                    </td>
                    <td><code>${x.id}</code><br /><span class="muted">${x.model}</span></td>
                    <td>${key(x.purposeId)}</td>
                    <td>
                      <span class=${`badge ${level === 'good' ? 'ok' : level === 'fair' ? 'neutral' : 'warn'}`}
                        >${c.quality[level]}</span
                      >
                      <div class="muted">
                        ${t.qualityFacts(Math.round(x.quality['faceSize'] ?? 0), Math.round(x.quality['sharpness'] ?? 0))}
                      </div>
                    </td>
                    <td class="nowrap">${fmtDay(x.createdAt)}</td>
                  </tr>`;
                })}
              </tbody>
            </table>
          </div>`
        : html`<${Empty}>${t.noTemplates}<//>`
    }
    <h2>${t.sightings}</h2>
    ${
      sightings?.items.length
        ? html`<div class="photos" data-testid="subject-sightings">
            ${sightings.items.map(
              (g) =>
                html`<figure>
                  <${Thumb}
                    large=${true}
                    path=${s.state === 'active' ? `${base}/sightings/${encodeURIComponent(g.id)}/photo` : null}
                    alt=${t.sightingAlt(g.filename)}
                    why=${t.noPhotoState}
                  />
                  <figcaption>${g.filename} · ${fmtDay(g.ingestedAt)} · ${g.similarity.toFixed(2)}</figcaption>
                </figure>`,
            )}
          </div>`
        : html`<${Empty}>${t.noSightings}<//>`
    }
    <h2>${t.searches}</h2>
    ${
      s.searches.length
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-label=${t.searches}>
            <table data-testid="subject-searches">
              <thead>
                <tr>
                  <th>${t.when}</th>
                  <th>${t.kind}</th>
                  <th>${c.purpose}</th>
                  <th>${t.by}</th>
                  <th>${t.why}</th>
                  <th class="num">${t.similarity}</th>
                </tr>
              </thead>
              <tbody>
                ${s.searches.map(
                  (x) =>
                    html`<tr>
                      <td class="nowrap">${fmtDateTime(x.at)}</td>
                      <td>${x.kind}</td>
                      <td>${key(x.purposeId)}</td>
                      <td><code>${x.recipient}</code></td>
                      <td>${x.caseRef ?? x.justification ?? ''}</td>
                      <td class="num">
                        ${x.similarity.toFixed(3)} <span class="muted">#${x.rank}</span>
                        ${x.confirmation ? html`<br /><${MatchState} c=${x.confirmation} />` : null}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : html`<${Empty}>${t.noSearches}<//>`
    }
    <p class="muted">${t.audited}</p>`;
}

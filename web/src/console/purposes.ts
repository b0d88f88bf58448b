import { useState } from 'preact/hooks';
import { api, html } from '../lib.js';
import { duration } from '../i18n.js';
import { ConfirmAction, Done, ErrorText, Field } from '../ui.js';
import { getKey, useC, useLang, useLoad, type Purpose } from './shared.js';

const BASES = ['consent', 'contract', 'legal-obligation', 'vital-interests', 'public-task', 'legitimate-interests'];
const ART9 = [
  'explicit-consent',
  'employment-social-protection',
  'vital-interests',
  'made-public',
  'legal-claims',
  'substantial-public-interest',
];

export function Purposes() {
  const c = useC();
  const p = c.purposes;
  const lang = useLang();
  const [list, error, reload] = useLoad<{ items: Purpose[] }>('/v1/purposes');
  const [form, setForm] = useState<Record<string, string | boolean>>({
    lawfulBasis: 'consent',
    art9Condition: 'explicit-consent',
    retention: 'P1Y',
  });
  const [err, setErr] = useState<unknown>(null);
  const [created, setCreated] = useState<string | null>(null);
  const f = (k: string) => (e: Event) => {
    const t = e.target as HTMLInputElement;
    setForm({ ...form, [k]: t.type === 'checkbox' ? t.checked : t.value });
  };
  const create = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    setCreated(null);
    try {
      const r = await api<Purpose>(
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
      setCreated(r.key);
      reload();
    } catch (x) {
      setErr(x);
    }
  };
  const suspend = (x: Purpose, suspended: boolean) => async (v: Record<string, string>) => {
    await api(
      'POST',
      `/v1/purposes/${encodeURIComponent(x.key)}/suspend`,
      { suspended, reason: v['reason'] },
      getKey(),
    );
    reload();
    return suspended ? p.suspendedNow(x.key) : p.resumedNow(x.key);
  };
  return html`<h1>${p.title}</h1>
    <p class="lede">${p.intro}</p>
    <${ErrorText} error=${error} />
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>${p.key}</th>
            <th>${p.name}</th>
            <th>${p.basis}</th>
            <th>${p.retention}</th>
            <th>${p.photos}</th>
            <th>${c.status}</th>
            <th class="num">${p.templates}</th>
            <th>${c.actions}</th>
          </tr>
        </thead>
        <tbody>
          ${(list?.items ?? []).map(
            (x) =>
              html`<tr>
                <td><code>${x.key}</code></td>
                <td>${x.name}</td>
                <td>${c.basis[x.lawfulBasis as keyof typeof c.basis] ?? x.lawfulBasis}</td>
                <td title=${x.retention}>${duration(x.retention, lang)}</td>
                <td>${x.keepSourceImages ? p.kept : p.notKept}</td>
                <td>
                  ${x.status === 'suspended' ? html`<span class="badge warn">${c.suspended}</span>` : html`<span class="badge ok">${c.active}</span>`}
                </td>
                <td class="num">${x.templates ?? 0}</td>
                <td>
                  <${ConfirmAction}
                    small=${true}
                    tone=${x.status === 'active' ? 'danger' : undefined}
                    label=${x.status === 'active' ? p.suspend : p.resume}
                    question=${x.status === 'active' ? p.suspendQ(x.name) : p.resumeQ(x.name)}
                    words=${c.confirm}
                    fields=${[{ id: `reason-${x.key}`, label: c.reason }]}
                    run=${(v: Record<string, string>) => suspend(x, x.status === 'active')({ reason: v[`reason-${x.key}`] ?? '' })}
                  />
                </td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
    <section class="card">
      <h2>${p.declare}</h2>
      <form onSubmit=${create} novalidate>
        <div class="row">
          <${Field} id="p-key" label=${p.key} hint=${p.keyHint}>
            <input id="p-key" class="short" type="text" aria-describedby="p-key-hint" onInput=${f('key')} />
          <//>
          <${Field} id="p-name" label=${p.name}><input id="p-name" type="text" onInput=${f('name')} /><//>
        </div>
        <${Field} id="p-desc" label=${p.description}>
          <textarea id="p-desc" onInput=${f('description')}></textarea>
        <//>
        <div class="row">
          <${Field} id="p-basis" label=${p.basisLabel}>
            <select id="p-basis" onChange=${f('lawfulBasis')}>
              ${BASES.map((b) => html`<option value=${b}>${c.basis[b as keyof typeof c.basis]}</option>`)}
            </select>
          <//>
          <${Field} id="p-art9" label=${p.art9}>
            <select id="p-art9" onChange=${f('art9Condition')}>
              ${ART9.map((b) => html`<option value=${b}>${c.art9[b as keyof typeof c.art9]}</option>`)}
            </select>
          <//>
        </div>
        <${Field} id="p-legal" label=${p.legal} hint=${p.legalHint}>
          <input id="p-legal" type="text" aria-describedby="p-legal-hint" onInput=${f('legalReference')} />
        <//>
        <div class="row">
          <${Field} id="p-ret" label=${p.retentionLabel} hint=${p.retentionHint}>
            <input
              id="p-ret"
              class="short"
              type="text"
              aria-describedby="p-ret-hint"
              value=${String(form['retention'])}
              onInput=${f('retention')}
            />
          <//>
          <${Field} id="p-rec" label=${p.recipients} hint=${p.recipientsHint}>
            <input id="p-rec" type="text" aria-describedby="p-rec-hint" onInput=${f('recipients')} />
          <//>
        </div>
        <label class="check"
          ><input type="checkbox" onChange=${f('requiresCaseRef')} /> <span>${p.caseRef}</span></label
        >
        <label class="check"
          ><input type="checkbox" onChange=${f('keepSourceImages')} /> <span>${p.keepPhotos}</span></label
        >
        <button type="submit">${p.create}</button>
      </form>
      <${ErrorText} error=${err} />
      ${created ? html`<${Done}><p>${p.created(created)}</p><//>` : null}
    </section>`;
}

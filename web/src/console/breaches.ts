import { useState } from 'preact/hooks';
import { api, fmtDateTime, html } from '../lib.js';
import { ConfirmAction, Done, Empty, ErrorText, Field } from '../ui.js';
import { hoursTo, isoOf, localNow, useNow } from './clock.js';
import { getKey, useC, useLoad } from './shared.js';

interface Breach {
  id: string;
  discoveredAt: string;
  nature: string;
  categories: string[];
  approxPeople: number;
  approxRecords: number;
  consequences: string;
  measures: string;
  notifyBy: string;
  notifiedAt: string | null;
  notificationRef: string | null;
  peopleInformed: boolean | null;
  peopleDecision: string | null;
  overdue: boolean;
}

export function Breaches() {
  const c = useC();
  const t = c.breaches;
  const now = useNow();
  const [list, error, reload] = useLoad<{ items: Breach[] }>('/v1/oversight/breaches');
  const [form, setForm] = useState({
    discoveredAt: localNow(),
    nature: '',
    categories: '',
    approxPeople: '0',
    approxRecords: '0',
    consequences: '',
    measures: '',
  });
  const [err, setErr] = useState<unknown>(null);
  const [status, setStatus] = useState<string | null>(null);
  const f = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const record = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    try {
      const b = await api<Breach>(
        'POST',
        '/v1/oversight/breaches',
        {
          discoveredAt: isoOf(form.discoveredAt),
          nature: form.nature.trim(),
          categories: form.categories
            .split(',')
            .map((x) => x.trim())
            .filter(Boolean),
          approxPeople: Number(form.approxPeople),
          approxRecords: Number(form.approxRecords),
          consequences: form.consequences.trim(),
          measures: form.measures.trim(),
        },
        getKey(),
      );
      setStatus(t.recorded(fmtDateTime(b.notifyBy)));
      reload();
    } catch (x) {
      setErr(x);
    }
  };
  const notify = (b: Breach) => async (v: Record<string, string>) => {
    await api(
      'POST',
      `/v1/oversight/breaches/${encodeURIComponent(b.id)}/notify`,
      { reference: v[`ref-${b.id}`] },
      getKey(),
    );
    // The card loses its button once notified: the outcome is said at the top of the page.
    setStatus(t.notifiedNow);
    reload();
    return null;
  };
  return html`<h1>${t.title}</h1>
    <p class="lede">${t.intro}</p>
    <${ErrorText} error=${error} />
    ${status ? html`<${Done}><p>${status}</p><//>` : null}
    ${list && !list.items.length ? html`<${Empty}>${t.none}<//>` : null}
    ${(list?.items ?? []).map((b) => {
      const h = hoursTo(b.notifyBy, now);
      return html`<section class="card" data-testid="breach">
        <div class="page-head">
          <h2 style="margin-top:0">${b.nature}</h2>
          ${
            b.notifiedAt
              ? html`<span class="badge ok">${t.notified}</span>`
              : b.overdue
                ? html`<span class="badge danger clock" data-testid="breach-clock">${t.overdueBy(-h)}</span>`
                : html`<span class="badge warn clock" data-testid="breach-clock">${t.left(h)}</span>`
          }
        </div>
        <dl class="facts">
          <dt>${t.discovered}</dt>
          <dd>${fmtDateTime(b.discoveredAt)}</dd>
          <dt>${t.notifyBy}</dt>
          <dd class=${b.overdue ? 'overdue' : ''}>${fmtDateTime(b.notifyBy)}</dd>
          <dt>${t.categories}</dt>
          <dd>${b.categories.join(', ')}</dd>
          <dt>${t.scale}</dt>
          <dd>${t.scaleN(b.approxPeople, b.approxRecords)}</dd>
          <dt>${t.consequences}</dt>
          <dd>${b.consequences}</dd>
          <dt>${t.measures}</dt>
          <dd>${b.measures}</dd>
          ${
            b.notifiedAt
              ? html`<dt>${t.notification}</dt>
                  <dd>${fmtDateTime(b.notifiedAt)} · ${b.notificationRef}</dd>`
              : null
          }
        </dl>
        ${
          b.notifiedAt
            ? null
            : html`<div class="actions">
                <${ConfirmAction}
                  label=${t.notify}
                  question=${t.notifyQ}
                  words=${c.confirm}
                  fields=${[{ id: `ref-${b.id}`, label: t.reference, hint: t.referenceHint }]}
                  run=${notify(b)}
                />
              </div>`
        }
      </section>`;
    })}
    <section class="card">
      <h2>${t.new}</h2>
      <p class="muted">${t.newHint}</p>
      <form onSubmit=${record} novalidate>
        <div class="row">
          <${Field} id="b-disc" label=${t.discovered}
            ><input id="b-disc" type="datetime-local" value=${form.discoveredAt} onInput=${f('discoveredAt')}
          /><//>
          <${Field} id="b-cat" label=${t.categories} hint=${t.categoriesHint}
            ><input
              id="b-cat"
              type="text"
              aria-describedby="b-cat-hint"
              value=${form.categories}
              onInput=${f('categories')}
          /><//>
        </div>
        <${Field} id="b-nature" label=${t.nature}>
          <textarea id="b-nature" value=${form.nature} onInput=${f('nature')}></textarea>
        <//>
        <div class="row">
          <${Field} id="b-people" label=${t.people}
            ><input
              id="b-people"
              class="short"
              type="number"
              min="0"
              value=${form.approxPeople}
              onInput=${f('approxPeople')}
          /><//>
          <${Field} id="b-records" label=${t.records}
            ><input
              id="b-records"
              class="short"
              type="number"
              min="0"
              value=${form.approxRecords}
              onInput=${f('approxRecords')}
          /><//>
        </div>
        <${Field} id="b-cons" label=${t.consequences}>
          <textarea id="b-cons" value=${form.consequences} onInput=${f('consequences')}></textarea>
        <//>
        <${Field} id="b-meas" label=${t.measures}>
          <textarea id="b-meas" value=${form.measures} onInput=${f('measures')}></textarea>
        <//>
        <button type="submit">${t.record}</button>
      </form>
      <${ErrorText} error=${err} />
    </section>`;
}

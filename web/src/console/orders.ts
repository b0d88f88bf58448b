import { useState } from 'preact/hooks';
import { api, apiBlob, download, fmtDateTime, fmtDay, html, value } from '../lib.js';
import { Done, Empty, ErrorText, Field } from '../ui.js';
import { hoursTo, isoOf, localNow, useNow } from './clock.js';
import { PurposeSelect, getKey, useC, useLoad, usePurposes } from './shared.js';

interface Order {
  id: string;
  authority: string;
  reference: string;
  receivedAt: string;
  deadline: string;
  demands: { type: string; detail: string; purpose?: string }[];
  countsAtReceipt: Record<string, number>;
  status: 'open' | 'closed';
  closedAt: string | null;
  overdue: boolean;
  actions: { seq: number; kind: string; description: string; auditSeq: number; at: string }[];
}

const DEMANDS = ['suspend-purpose', 'erase-population', 'answer-questions', 'provide-records', 'other'] as const;
const ACTIONS = ['suspend-purpose', 'resume-purpose', 'erasure', 'export', 'answer', 'other'] as const;

/** Link an action to an order: what was done, and (for a suspension) which purpose. */
function ActionForm({ order, onDone }: { order: Order; onDone: (m: string) => void }) {
  const c = useC();
  const t = c.orders;
  const purposes = usePurposes();
  const [kind, setKind] = useState<string>('answer');
  const [purpose, setPurpose] = useState('');
  const [description, setDescription] = useState('');
  const [err, setErr] = useState<unknown>(null);
  const id = (x: string) => `${x}-${order.id}`;
  const go = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    if (description.trim().length < 3) return setErr(t.needDescription);
    try {
      const suspends = kind === 'suspend-purpose' || kind === 'resume-purpose';
      await api(
        'POST',
        `/v1/oversight/orders/${encodeURIComponent(order.id)}/actions`,
        { kind, description: description.trim(), ...(suspends ? { purpose } : {}) },
        getKey(),
      );
      setDescription('');
      onDone(t.actionRecorded(t.action[kind as keyof typeof t.action] ?? kind, order.reference));
    } catch (x) {
      setErr(x);
    }
  };
  return html`<form onSubmit=${go} novalidate>
    <div class="row">
      <${Field} id=${id('kind')} label=${t.actionKind}>
        <select id=${id('kind')} value=${kind} onChange=${(e: Event) => setKind((e.target as HTMLSelectElement).value)}>
          ${ACTIONS.map((a) => html`<option value=${a}>${t.action[a]}</option>`)}
        </select>
      <//>
      ${
        kind === 'suspend-purpose' || kind === 'resume-purpose'
          ? html`<${Field} id=${id('purpose')} label=${c.purpose}>
              <${PurposeSelect}
                id=${id('purpose')}
                purposes=${purposes}
                value=${purpose}
                onChange=${setPurpose}
                allowSuspended=${true}
              />
            <//>`
          : null
      }
    </div>
    <${Field} id=${id('desc')} label=${t.description}>
      <textarea id=${id('desc')} rows="2" value=${description} onInput=${value(setDescription)}></textarea>
    <//>
    <button type="submit" class="secondary">${t.record}</button>
    <${ErrorText} error=${err} />
  </form>`;
}

export function Orders() {
  const c = useC();
  const t = c.orders;
  const now = useNow();
  const [list, error, reload] = useLoad<{ items: Order[] }>('/v1/oversight/orders');
  const [form, setForm] = useState({
    authority: '',
    reference: '',
    receivedAt: localNow(),
    deadline: localNow(30 * 86_400_000),
    type: 'provide-records',
    detail: '',
  });
  const [err, setErr] = useState<unknown>(null);
  const [status, setStatus] = useState<string | null>(null);
  const f = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.target as HTMLInputElement).value });
  const record = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    try {
      const o = await api<Order>(
        'POST',
        '/v1/oversight/orders',
        {
          authority: form.authority.trim(),
          reference: form.reference.trim(),
          receivedAt: isoOf(form.receivedAt),
          deadline: isoOf(form.deadline),
          demands: [{ type: form.type, detail: form.detail.trim() }],
        },
        getKey(),
      );
      setStatus(t.recorded(o.reference, fmtDay(o.deadline)));
      setForm({ ...form, authority: '', reference: '', detail: '' });
      reload();
    } catch (x) {
      setErr(x);
    }
  };
  const bundle = async (o: Order) =>
    download(
      `${o.id}-evidence.zip`,
      await apiBlob(`/v1/oversight/orders/${encodeURIComponent(o.id)}/bundle`, getKey()),
    );
  const done = (m: string) => {
    setStatus(m);
    reload();
  };
  return html`<h1>${t.title}</h1>
    <p class="lede">${t.intro}</p>
    <${ErrorText} error=${error} />
    ${status ? html`<${Done}><p>${status}</p><//>` : null}
    ${list && !list.items.length ? html`<${Empty}>${t.none}<//>` : null}
    ${(list?.items ?? []).map((o) => {
      const h = hoursTo(o.deadline, now);
      return html`<section class="card" data-testid="order">
        <div class="page-head">
          <h2 style="margin-top:0">${o.authority} · ${o.reference}</h2>
          ${
            o.status === 'closed'
              ? html`<span class="badge neutral">${t.closed}</span>`
              : o.overdue
                ? html`<span class="badge danger" data-testid="order-clock">${t.overdueBy(-h)}</span>`
                : html`<span class="badge warn" data-testid="order-clock">${t.left(h)}</span>`
          }
        </div>
        <dl class="facts">
          <dt>${t.received}</dt>
          <dd>${fmtDateTime(o.receivedAt)}</dd>
          <dt>${t.deadline}</dt>
          <dd class=${o.overdue ? 'overdue' : ''}>${fmtDateTime(o.deadline)}</dd>
          <dt>${t.demands}</dt>
          <dd>
            <ul class="plain">
              ${o.demands.map((d) => html`<li><strong>${t.demand[d.type as keyof typeof t.demand] ?? d.type}</strong>: ${d.detail}</li>`)}
            </ul>
          </dd>
          <dt>${t.atReceipt}</dt>
          <dd>
            ${Object.entries(o.countsAtReceipt)
              .map(([k, v]) => `${k}: ${v}`)
              .join(' · ')}
          </dd>
        </dl>
        <h3>${t.actions}</h3>
        ${
          o.actions.length
            ? html`<ul class="plain">
                ${o.actions.map((a) => html`<li>${fmtDateTime(a.at)} · <strong>${t.action[a.kind as keyof typeof t.action] ?? a.kind}</strong> — ${a.description} <span class="muted">(${t.auditSeq(a.auditSeq)})</span></li>`)}
              </ul>`
            : html`<p class="muted">${t.noActions}</p>`
        }
        ${o.status === 'open' ? html`<${ActionForm} order=${o} onDone=${done} />` : null}
        <div class="actions">
          <button class="secondary" onClick=${() => bundle(o)}>${t.bundle}</button
          ><span class="muted">${t.bundleHint}</span>
        </div>
      </section>`;
    })}
    <section class="card">
      <h2>${t.new}</h2>
      <form onSubmit=${record} novalidate>
        <div class="row">
          <${Field} id="o-auth" label=${t.authority}
            ><input id="o-auth" type="text" value=${form.authority} onInput=${f('authority')}
          /><//>
          <${Field} id="o-ref" label=${t.reference}
            ><input id="o-ref" type="text" value=${form.reference} onInput=${f('reference')}
          /><//>
        </div>
        <div class="row">
          <${Field} id="o-recv" label=${t.received}
            ><input id="o-recv" type="datetime-local" value=${form.receivedAt} onInput=${f('receivedAt')}
          /><//>
          <${Field} id="o-dl" label=${t.deadline}
            ><input id="o-dl" type="datetime-local" value=${form.deadline} onInput=${f('deadline')}
          /><//>
        </div>
        <${Field} id="o-type" label=${t.demandType}>
          <select id="o-type" value=${form.type} onChange=${f('type')}>
            ${DEMANDS.map((d) => html`<option value=${d}>${t.demand[d]}</option>`)}
          </select>
        <//>
        <${Field} id="o-detail" label=${t.demandDetail}>
          <textarea id="o-detail" value=${form.detail} onInput=${f('detail')}></textarea>
        <//>
        <button type="submit">${t.recordOrder}</button>
      </form>
      <${ErrorText} error=${err} />
    </section>`;
}

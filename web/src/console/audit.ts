import { useState } from 'preact/hooks';
import { api, apiBlob, download, fmtDateTime, html } from '../lib.js';
import { ErrorText, Field } from '../ui.js';
import { getKey, useC, useLoad } from './shared.js';

interface Entry {
  seq: number;
  time: string;
  action: string;
  actor: { kind: string; id: string };
  subjectIds: string[];
  purposeId: string | null;
}

export function Audit() {
  const c = useC();
  const t = c.audit;
  const [head, error] = useLoad<{ size: number; rootHash: string; timestamp: string; keyId: string }>('/v1/audit/head');
  const [report, setReport] = useState<{
    ok: boolean;
    entries: number;
    headsVerified: number;
    ms: number;
    failure?: { message: string };
  } | null>(null);
  const [q, setQ] = useState<Record<string, string>>({});
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const verifyNow = async () => {
    try {
      setReport(await api('POST', '/v1/audit/verify', undefined, getKey()));
    } catch (x) {
      setErr(x);
    }
  };
  const search = async (e: Event) => {
    e.preventDefault();
    try {
      const qs = new URLSearchParams(Object.entries(q).filter(([, v]) => v));
      setEntries((await api<{ items: Entry[] }>('GET', `/v1/audit/entries?${qs}`, undefined, getKey())).items);
    } catch (x) {
      setErr(x);
    }
  };
  const exportAll = async () => download('veil-audit.jsonl', await apiBlob('/v1/audit/export', getKey()));
  const f = (k: string) => (e: Event) => setQ({ ...q, [k]: (e.target as HTMLInputElement).value });
  return html`<h1>${t.title}</h1>
    <p class="lede">${t.intro}</p>
    <${ErrorText} error=${error || err} />
    ${
      head
        ? html`<section class="card">
            <h2>${t.head}</h2>
            <dl class="facts">
              <dt>${t.size}</dt>
              <dd>${head.size}</dd>
              <dt>${t.root}</dt>
              <dd><code style="word-break:break-all">${head.rootHash}</code></dd>
              <dt>${t.signedAt}</dt>
              <dd>${fmtDateTime(head.timestamp)}</dd>
              <dt>${t.key}</dt>
              <dd><code>${head.keyId}</code></dd>
            </dl>
            <div class="actions">
              <button onClick=${verifyNow}>${t.verify}</button>
              <button class="secondary" onClick=${exportAll}>${t.export}</button>
            </div>
            ${report ? html`<p class=${report.ok ? 'ok' : 'error'} role="status">${report.ok ? t.ok(report.entries, report.headsVerified, report.ms) : t.failed(report.failure?.message ?? '')}</p>` : null}
          </section>`
        : null
    }
    <section class="card">
      <h2>${t.search}</h2>
      <form onSubmit=${search}>
        <div class="row">
          <${Field} id="a-subject" label=${t.subject}><input id="a-subject" type="text" onInput=${f('subject')} /><//>
          <${Field} id="a-purpose" label=${t.purpose}><input id="a-purpose" type="text" onInput=${f('purpose')} /><//>
          <${Field} id="a-actor" label=${t.actor}><input id="a-actor" type="text" onInput=${f('actor')} /><//>
        </div>
        <div class="row">
          <${Field} id="a-from" label=${t.from} hint=${t.timeHint}
            ><input id="a-from" type="text" aria-describedby="a-from-hint" onInput=${f('from')}
          /><//>
          <${Field} id="a-to" label=${t.to} hint=${t.timeHint}
            ><input id="a-to" type="text" aria-describedby="a-to-hint" onInput=${f('to')}
          /><//>
        </div>
        <button type="submit">${t.find}</button>
      </form>
    </section>
    ${
      entries
        ? html`<div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th class="num">${t.seq}</th>
                  <th>${t.time}</th>
                  <th>${t.action}</th>
                  <th>${t.actor}</th>
                  <th>${t.subjects}</th>
                </tr>
              </thead>
              <tbody>
                ${entries.map(
                  (e) =>
                    html`<tr>
                      <td class="num">${e.seq}</td>
                      <td class="nowrap">${fmtDateTime(e.time)}</td>
                      <td><code>${e.action}</code></td>
                      <td><code>${e.actor.kind}:${e.actor.id}</code></td>
                      <td>${e.subjectIds.map((s) => html`<code>${s}</code> `)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : null
    }`;
}

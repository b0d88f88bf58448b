import { html } from '../lib.js';
import { BarChart, CHART_COLORS } from '../chart.js';
import { ErrorText } from '../ui.js';
import { useC, useLang, useLoad } from './shared.js';

interface Stats {
  purposes: { key: string; name: string; status: string; templates: number }[];
  searchesPerDay: { day: string; purpose: string; searches: number }[];
  /** null for keys without oversight (operators, investigators). */
  rights: { open: number; overdue: number; awaitingReview?: number } | null;
  handlingDays: { id: string; kind: string; days: number; onTime: boolean }[];
  breachesOverdue: number | null;
  ordersOverdue: number | null;
}

/** The 14 days up to today (UTC, as the API counts them), oldest first. */
function lastDays(n: number, lang: string) {
  const today = new Date();
  return Array.from({ length: n }, (_, i) => {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (n - 1 - i)));
    const key = d.toISOString().slice(0, 10);
    return {
      key,
      label: d.toLocaleDateString(lang, { day: 'numeric', month: 'short', timeZone: 'UTC' }),
      long: d.toLocaleDateString(lang, { weekday: 'short', day: 'numeric', month: 'long', timeZone: 'UTC' }),
    };
  });
}

function Stat({
  label,
  n,
  href,
  alert,
  testid,
}: {
  label: string;
  n: number;
  href?: string;
  alert?: boolean;
  testid?: string;
}) {
  const inner = html`<span class="label">${label}</span><span class="value" data-testid=${testid}>${n}</span>`;
  const cls = `stat${alert && n ? ' alert' : ''}`;
  return href ? html`<a class=${cls} href=${href}>${inner}</a>` : html`<div class=${cls}>${inner}</div>`;
}

export function Dashboard() {
  const c = useC();
  const lang = useLang();
  const [s, error] = useLoad<Stats>('/v1/stats');
  const d = c.dashboard;
  if (!s)
    return html`<h1>${d.title}</h1>
      <${ErrorText} error=${error} />`;
  const days = lastDays(14, lang);
  const purposes = [...new Set(s.searchesPerDay.map((x) => x.purpose))];
  const perDay = new Map(s.searchesPerDay.map((x) => [`${x.day}|${x.purpose}`, x.searches]));
  const series = purposes.map((p, i) => ({
    key: p,
    label: s.purposes.find((x) => x.key === p)?.name ?? p,
    color: CHART_COLORS[i % CHART_COLORS.length]!,
  }));
  const handled = s.handlingDays.map((h, i) => ({
    key: `${i}`,
    label: c.kindShort[h.kind as keyof typeof c.kindShort] ?? h.kind,
    long: `${c.kind[h.kind as keyof typeof c.kind] ?? h.kind} ${h.id}`,
  }));
  return html`<h1>${d.title}</h1>
    ${
      s.rights
        ? html`<section class="stats" data-testid="oversight" aria-label=${d.oversight}>
            <${Stat} label=${d.open} n=${s.rights.open} href="#/console/rights" />
            <${Stat} label=${d.overdue} n=${s.rights.overdue} href="#/console/rights" alert=${true} />
            ${
              s.rights.awaitingReview !== undefined
                ? html`<${Stat}
                    label=${d.awaitingReview}
                    n=${s.rights.awaitingReview}
                    href="#/console/rights"
                    testid="awaiting-review"
                  />`
                : null
            }
            <${Stat}
              label=${d.breachesOverdue}
              n=${s.breachesOverdue ?? 0}
              href="#/console/breaches"
              alert=${true}
              testid="breaches-overdue"
            />
            <${Stat}
              label=${d.ordersOverdue}
              n=${s.ordersOverdue ?? 0}
              href="#/console/orders"
              alert=${true}
              testid="orders-overdue"
            />
          </section>`
        : null
    }
    <div class="grid">
      <section class="card">
        <h2>${d.searches}</h2>
        <${BarChart}
          testid="chart-searches"
          title=${d.searches}
          categories=${days}
          series=${series}
          value=${(day: string, p: string) => perDay.get(`${day}|${p}`) ?? 0}
          xTitle=${d.day}
          yTitle=${d.searchesAxis}
          describe=${(cat: { long: string }, ser: { label: string }, v: number) => `${cat.long} · ${ser.label}: ${d.nSearches(v)}`}
          empty=${d.noSearches}
        />
      </section>
      <section class="card">
        <h2>${d.handling}</h2>
        <${BarChart}
          testid="chart-handling"
          title=${d.handling}
          categories=${handled}
          series=${[
            { key: 'on', label: d.onTime, color: 'var(--chart-2)' },
            { key: 'late', label: d.late, color: 'var(--chart-3)' },
          ]}
          value=${(i: string, k: string) => {
            const h = s.handlingDays[Number(i)]!;
            return (h.onTime ? 'on' : 'late') === k ? h.days : 0;
          }}
          xTitle=${d.request}
          yTitle=${d.daysAxis}
          describe=${(cat: { long: string }, _s: unknown, v: number) => `${cat.long}: ${d.nDays(v)}`}
          empty=${d.noHandled}
          deadline=${{ value: 30, label: d.oneMonth }}
        />
        <p class="muted">${d.handledSummary(s.handlingDays.length, s.handlingDays.filter((h) => h.onTime).length)}</p>
      </section>
    </div>
    <h2>${d.galleries}</h2>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>${c.purpose}</th>
            <th>${c.status}</th>
            <th class="num">${d.templates}</th>
          </tr>
        </thead>
        <tbody>
          ${s.purposes.map(
            (p) =>
              html`<tr>
                <td>${p.name} <span class="muted">(${p.key})</span></td>
                <td>${p.status === 'suspended' ? html`<span class="badge warn">${c.suspended}</span>` : c.active}</td>
                <td class="num">${p.templates}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
}

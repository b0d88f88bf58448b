import { useState } from 'preact/hooks';
import { html } from './lib.js';

export interface ChartSeries {
  readonly key: string;
  readonly label: string;
  readonly color: string;
}

export interface ChartCategory {
  readonly key: string;
  /** Under the axis ("3 Jun"). */
  readonly label: string;
  /** In the tooltip and for screen readers ("Wednesday 3 June 2026"). */
  readonly long: string;
}

const W = 640;
const H = 250;
const M = { top: 14, right: 12, bottom: 52, left: 48 };

/** 0, then round steps (1, 2, 5 x 10^n) up to at least max. */
function ticks(max: number): number[] {
  if (max <= 0) return [0, 1];
  const raw = max / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const n = Math.ceil(max / step);
  return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(6)));
}

/**
 * A stacked bar chart in SVG: labelled axes, a value on hover and on keyboard focus, a legend, an
 * optional deadline line, and an empty state. Hand-written (about 150 lines) rather than a library:
 * it needs nothing from outside the origin, follows the design tokens and dark mode, and each bar is
 * a focusable, named element.
 */
export function BarChart({
  title,
  categories,
  series,
  value,
  xTitle,
  yTitle,
  describe,
  empty,
  deadline,
  testid,
}: {
  title: string;
  categories: readonly ChartCategory[];
  series: readonly ChartSeries[];
  value: (category: string, series: string) => number;
  xTitle: string;
  yTitle: string;
  /** The tooltip and accessible name of one bar segment. */
  describe: (c: ChartCategory, s: ChartSeries, v: number) => string;
  empty: string;
  deadline?: { value: number; label: string } | undefined;
  testid?: string;
}) {
  const [tip, setTip] = useState<{ x: number; y: number; text: string } | null>(null);
  const totals = categories.map((c) => series.reduce((n, s) => n + value(c.key, s.key), 0));
  if (!categories.length || totals.every((t) => t === 0))
    return html`<div class="empty" data-testid=${testid}>${empty}</div>`;
  const ys = ticks(Math.max(...totals, deadline?.value ?? 0));
  const top = ys.at(-1)!;
  const iw = W - M.left - M.right;
  const ih = H - M.top - M.bottom;
  const band = iw / categories.length;
  const bw = Math.max(4, Math.min(44, band * 0.7));
  const y = (v: number) => M.top + ih - (v / top) * ih;
  const every = Math.ceil(categories.length / 16);
  const show = (x: number, yy: number, text: string) => setTip({ x: (x / W) * 100, y: (yy / H) * 100, text });
  return html`<figure class="chart" style="margin:0" data-testid=${testid}>
    <svg viewBox=${`0 0 ${W} ${H}`} role="group" aria-label=${title} onMouseLeave=${() => setTip(null)}>
      ${ys.map(
        (t) =>
          html`<g>
            <line class="gridline" x1=${M.left} x2=${W - M.right} y1=${y(t)} y2=${y(t)} />
            <text x=${M.left - 6} y=${y(t) + 4} text-anchor="end">${t}</text>
          </g>`,
      )}
      <line class="axis" x1=${M.left} x2=${W - M.right} y1=${y(0)} y2=${y(0)} />
      <line class="axis" x1=${M.left} x2=${M.left} y1=${M.top} y2=${y(0)} />
      ${categories.map((c, i) => {
        const cx = M.left + band * i + band / 2;
        let acc = 0;
        return html`<g>
          ${series.map((s) => {
            const v = value(c.key, s.key);
            if (!v) return null;
            const y0 = y(acc);
            acc += v;
            const y1 = y(acc);
            const text = describe(c, s, v);
            return html`<rect
              class="bar"
              role="img"
              tabindex="0"
              aria-label=${text}
              x=${cx - bw / 2}
              y=${y1}
              width=${bw}
              height=${Math.max(1, y0 - y1)}
              style=${`fill:${s.color}`}
              onMouseEnter=${() => show(cx, y1, text)}
              onFocus=${() => show(cx, y1, text)}
              onBlur=${() => setTip(null)}
            />`;
          })}
          ${
            i % every === 0
              ? html`<text x=${cx} y=${y(0) + 16} text-anchor="middle" aria-hidden="true">${c.label}</text>`
              : null
          }
        </g>`;
      })}
      ${
        deadline
          ? html`<g>
              <line class="deadline" x1=${M.left} x2=${W - M.right} y1=${y(deadline.value)} y2=${y(deadline.value)} />
              <text x=${W - M.right} y=${y(deadline.value) - 4} text-anchor="end">${deadline.label}</text>
            </g>`
          : null
      }
      <text class="axis-title" x=${M.left + iw / 2} y=${H - 8} text-anchor="middle">${xTitle}</text>
      <text class="axis-title" transform=${`translate(12 ${M.top + ih / 2}) rotate(-90)`} text-anchor="middle">
        ${yTitle}
      </text>
    </svg>
    ${tip ? html`<div class="tip" style=${`left:${tip.x}%;top:${tip.y}%`} aria-hidden="true">${tip.text}</div>` : null}
    ${
      series.length > 1
        ? html`<ul class="legend">
            ${series.map((s) => html`<li><i style=${`background:${s.color}`}></i>${s.label}</li>`)}
          </ul>`
        : null
    }
  </figure>`;
}

export const CHART_COLORS = ['var(--chart-1)', 'var(--chart-2)', 'var(--chart-3)', 'var(--chart-4)'];

// Per-stage summary of the Server-Timing headers of a run (VEIL_SERVER_TIMING, src/request-timing.ts):
// each stage's p50 / p99 over all requests, and what the slowest requests were made of (the mean of
// each stage over the requests at or above the run's p99, and over those at or above its p95), with
// `client` = end-to-end latency minus the server's total (the loopback, the load generator's own lag).
import { parseServerTiming } from '../src/request-timing.js';
import { median, percentile } from './stats.js';

export interface StageRow {
  stage: string;
  p50: number;
  p99: number;
  /** Mean over the requests at or above the end-to-end p99 / p95. */
  tailP99Mean: number;
  tailP95Mean: number;
}

export interface StageSummary {
  /** Requests with a header (all, when the server times). */
  timed: number;
  /** How many requests make each tail. */
  tailP99n: number;
  tailP95n: number;
  rows: StageRow[];
}

export function summariseStages(samples: readonly { ms: number; serverTiming: string | null }[]): StageSummary | null {
  const timed = samples.filter((s) => s.serverTiming);
  if (!timed.length) return null;
  const parsed = timed.map((s) => {
    const t = parseServerTiming(s.serverTiming);
    return { ms: s.ms, t: { ...t, client: Math.max(0, s.ms - (t['total'] ?? 0)) } as Record<string, number> };
  });
  const stages = [...new Set(parsed.flatMap((p) => Object.keys(p.t)))];
  const lat = parsed.map((p) => p.ms);
  const p99 = percentile(lat, 99);
  const p95 = percentile(lat, 95);
  const t99 = parsed.filter((p) => p.ms >= p99);
  const t95 = parsed.filter((p) => p.ms >= p95);
  const mean = (xs: typeof parsed, k: string) => xs.reduce((s, p) => s + (p.t[k] ?? 0), 0) / xs.length;
  return {
    timed: parsed.length,
    tailP99n: t99.length,
    tailP95n: t95.length,
    rows: stages.map((stage) => {
      const v = parsed.map((p) => p.t[stage] ?? 0);
      return {
        stage,
        p50: median(v),
        p99: percentile(v, 99),
        tailP99Mean: mean(t99, stage),
        tailP95Mean: mean(t95, stage),
      };
    }),
  };
}

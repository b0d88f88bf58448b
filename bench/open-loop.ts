// An open-loop load at a fixed rate: request i is due at start + i / rate, whether or not earlier
// ones have answered, and its latency runs from when it was due to the response's last byte.
//
// Why not autocannon's `overallRate`: it gives each connection a budget per second, so every
// connection fires back to back at the top of each second and then idles (concurrency bursts, not a
// rate), and it records each latency with an expected interval of ceil(1 / per-connection rate) = 1 ms,
// which adds a synthetic sample at every millisecond below it: its percentiles at a set rate are not
// the latencies the requests had.
import { median, percentile } from './stats.js';
import { summariseStages, type StageSummary } from './stages.js';

export interface OpenLoopResult {
  /** Requests that completed per second of the run (due times span `seconds`). */
  rps: number;
  p50: number;
  p99: number;
  max: number;
  /** The longest a request's send started after its due time (the client's own lag, counted in latency). */
  maxSendLagMs: number;
  total: number;
  non2xx: number;
  errors: number;
  /** Per-stage times from the server's Server-Timing headers (VEIL_SERVER_TIMING), else null. */
  stages: StageSummary | null;
  /** Each answered request in send order: latency and Server-Timing header (not for the results file). */
  samples?: { ms: number; serverTiming: string | null }[];
}

export async function openLoop(opts: {
  url: string;
  headers: Record<string, string>;
  bodies: readonly string[];
  rate: number;
  seconds: number;
}): Promise<OpenLoopResult> {
  const n = Math.round(opts.rate * opts.seconds);
  const latencies: number[] = [];
  const samples: { ms: number; serverTiming: string | null }[] = [];
  let non2xx = 0;
  let errors = 0;
  let maxSendLagMs = 0;
  const start = performance.now() + 50;
  const one = async (i: number): Promise<void> => {
    const due = start + (i * 1000) / opts.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    maxSendLagMs = Math.max(maxSendLagMs, performance.now() - due);
    try {
      const res = await fetch(opts.url, {
        method: 'POST',
        headers: opts.headers,
        body: opts.bodies[i % opts.bodies.length],
      });
      await res.arrayBuffer();
      if (res.status < 200 || res.status > 299) non2xx++;
      else {
        const ms = performance.now() - due;
        latencies.push(ms);
        samples[i] = { ms, serverTiming: res.headers.get('server-timing') };
      }
    } catch {
      errors++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  const elapsed = (performance.now() - t0) / 1000;
  return {
    rps: latencies.length / elapsed,
    p50: median(latencies),
    p99: percentile(latencies, 99),
    max: latencies.length ? Math.max(...latencies) : Number.NaN,
    maxSendLagMs,
    total: n,
    non2xx,
    errors,
    stages: summariseStages(samples.filter(Boolean)),
    samples: samples.filter(Boolean),
  };
}

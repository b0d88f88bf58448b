/** Prometheus text exposition without a dependency: counters, a latency histogram, gauges. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, { buckets: number[]; sum: number; count: number }>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const k = `method="${method}",route="${route}",status="${status}"`;
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
    const lk = `method="${method}",route="${route}"`;
    const h = this.latency.get(lk) ?? { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.buckets[i]!++;
    });
    h.sum += seconds;
    h.count++;
    this.latency.set(lk, h);
  }

  render(gauges: { name: string; help: string; values: { labels: string; value: number }[] }[]): string {
    const out: string[] = [
      '# HELP veil_http_requests_total HTTP requests by route and status',
      '# TYPE veil_http_requests_total counter',
    ];
    for (const [k, v] of this.requests) out.push(`veil_http_requests_total{${k}} ${v}`);
    out.push(
      '# HELP veil_http_request_duration_seconds Request latency',
      '# TYPE veil_http_request_duration_seconds histogram',
    );
    for (const [k, h] of this.latency) {
      BUCKETS.forEach((b, i) => out.push(`veil_http_request_duration_seconds_bucket{${k},le="${b}"} ${h.buckets[i]}`));
      out.push(
        `veil_http_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`,
        `veil_http_request_duration_seconds_sum{${k}} ${h.sum}`,
        `veil_http_request_duration_seconds_count{${k}} ${h.count}`,
      );
    }
    for (const g of gauges) {
      out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      for (const v of g.values) out.push(`${g.name}${v.labels ? `{${v.labels}}` : ''} ${v.value}`);
    }
    return out.join('\n') + '\n';
  }
}

/** Small statistics helpers for benchmarks: medians and percentiles over noisy samples. */
export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

export const median = (xs: readonly number[]): number => percentile(xs, 50);

export const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;

export function peakRssMb(): number {
  // maxRSS is in KiB and covers the whole process, worker threads included.
  return process.resourceUsage().maxRSS / 1024;
}

/** Prints a markdown table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

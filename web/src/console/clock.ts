import { useEffect, useState } from 'preact/hooks';

/** Now, refreshed every 30 s, so the deadlines on a page count down while it is open. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(t);
  }, []);
  return now;
}

/** Whole hours from now to a deadline (negative when past). */
export const hoursTo = (iso: string, now: number) => Math.round((new Date(iso).getTime() - now) / 3_600_000);

/** A datetime-local input's value as an ISO instant. */
export const isoOf = (local: string) => (local ? new Date(local).toISOString() : '');

/** Now as a datetime-local input value. */
export function localNow(offsetMs = 0): string {
  const d = new Date(Date.now() + offsetMs);
  d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
  return d.toISOString().slice(0, 16);
}

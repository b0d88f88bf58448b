import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { api, apiBlob, html } from '../lib.js';
import { CONSOLE, type ConsoleText, type Lang } from '../i18n.js';

const KEY = 'veil.console.key';
export const getKey = () => sessionStorage.getItem(KEY);
export const setKey = (k: string | null) => (k ? sessionStorage.setItem(KEY, k) : sessionStorage.removeItem(KEY));

export const LangContext = createContext<Lang>('en');

/** The console's words in the page's language. */
export function useC(): ConsoleText {
  return CONSOLE[useContext(LangContext)];
}

export function useLang(): Lang {
  return useContext(LangContext);
}

/** GETs a path with the console's key; reload() fetches it again. */
export function useLoad<T>(path: string | null): [T | null, unknown, () => void] {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    setError(null);
    if (path) api<T>('GET', path, undefined, getKey()).then(setData, setError);
  }, [path, n]);
  return [data, error, () => setN((x) => x + 1)];
}

export interface Purpose {
  id: string;
  key: string;
  name: string;
  description: string;
  lawfulBasis: string;
  art9Condition: string;
  legalReference: string | null;
  retention: string;
  recipients: string[];
  status: 'active' | 'suspended';
  templates?: number;
  requiresCaseRef: boolean;
  keepSourceImages: boolean;
}

export function usePurposes(): Purpose[] {
  const [list] = useLoad<{ items: Purpose[] }>('/v1/purposes');
  return list?.items ?? [];
}

/**
 * A purpose selector: each purpose by its name and key; suspended ones are shown as such and cannot
 * be chosen for processing. Selects the first active purpose by default.
 */
export function PurposeSelect({
  id,
  purposes,
  value,
  onChange,
  allowSuspended,
  any,
}: {
  id: string;
  purposes: readonly Purpose[];
  value: string;
  onChange: (key: string) => void;
  allowSuspended?: boolean;
  /** A first option meaning "every purpose" (filters). */
  any?: string;
}) {
  const c = useC();
  useEffect(() => {
    if (!value && !any) {
      const first = purposes.find((p) => allowSuspended || p.status === 'active');
      if (first) onChange(first.key);
    }
  }, [purposes.length]);
  return html`<select id=${id} value=${value} onChange=${(e: Event) => onChange((e.target as HTMLSelectElement).value)}>
    ${any !== undefined ? html`<option value="">${any}</option>` : null}
    ${purposes.map(
      (p) =>
        html`<option value=${p.key} disabled=${!allowSuspended && p.status === 'suspended'}>
          ${p.name} (${p.key})${p.status === 'suspended' ? ` — ${c.suspended}` : ''}
        </option>`,
    )}
  </select>`;
}

/** An image the API serves behind the key, as an object URL (an <img> cannot send the key itself). */
export function useImage(path: string | null): { url: string | null; error: unknown } {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let made: string | null = null;
    setUrl(null);
    setError(null);
    if (path)
      apiBlob(path, getKey()).then(
        (b) => setUrl((made = URL.createObjectURL(b))),
        (e) => setError(e),
      );
    return () => {
      if (made) URL.revokeObjectURL(made);
    };
  }, [path]);
  return { url, error };
}

export const subjectHref = (id: string) => `#/console/subjects/${encodeURIComponent(id)}`;

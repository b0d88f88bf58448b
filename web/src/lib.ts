import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown, key?: string | null): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (key) headers['authorization'] = `Bearer ${key}`;
  const res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (!res.ok) {
    const p = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
    throw new ApiError(res.status, p.code ?? 'INTERNAL', p.detail ?? res.statusText);
  }
  return (await res.json()) as T;
}

export async function apiBlob(path: string, key?: string | null): Promise<Blob> {
  const res = await fetch(path, { headers: key ? { authorization: `Bearer ${key}` } : {} });
  if (!res.ok) {
    const p = (await res.json().catch(() => ({}))) as { code?: string; detail?: string };
    throw new ApiError(res.status, p.code ?? 'INTERNAL', p.detail ?? res.statusText);
  }
  return res.blob();
}

export function toBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(',')[1] ?? '');
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

export function download(name: string, data: Blob | string, type = 'application/json'): void {
  const blob = typeof data === 'string' ? new Blob([data], { type }) : data;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
}

export const fmtDate = (iso: string | null | undefined) => (iso ? iso.slice(0, 10) : '');

/** A date and time as people read them, in the page's language, without seconds. */
export const fmtDateTime = (iso: string | null | undefined, lang = document.documentElement.lang || 'en') =>
  iso ? new Date(iso).toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' }) : '';

/** A day as people read it ("3 Jun 2026"). */
export const fmtDay = (iso: string | null | undefined, lang = document.documentElement.lang || 'en') =>
  iso ? new Date(iso).toLocaleDateString(lang, { day: 'numeric', month: 'short', year: 'numeric' }) : '';

export const value = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);

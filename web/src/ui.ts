import { useEffect, useState } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { ApiError, html } from './lib.js';

/** The mark: a face whose lower half is behind a veil. Decorative: the name is always beside it. */
export function Logo({ size = 28 }: { size?: number }) {
  return html`<svg width=${size} height=${size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
    <rect width="32" height="32" rx="8" fill="#3d3ab8" />
    <circle cx="16" cy="14" r="8.5" fill="none" stroke="#fff" stroke-width="2.4" />
    <circle cx="13" cy="12.5" r="1.3" fill="#fff" />
    <circle cx="19" cy="12.5" r="1.3" fill="#fff" />
    <path d="M5 17.5c3.5 2.6 7.2 3.9 11 3.9s7.5-1.3 11-3.9v9.5H5z" fill="#a9b1ff" />
  </svg>`;
}

/** A labelled field: the label, an optional hint (linked by aria-describedby) and the control. */
export function Field({
  id,
  label,
  hint,
  optional,
  children,
}: {
  id: string;
  label: string;
  hint?: string | undefined;
  optional?: string | undefined;
  children: ComponentChildren;
}) {
  return html`<div class="field">
    <label for=${id}>${label}${optional ? html` <span class="optional">${optional}</span>` : null}</label>
    ${hint ? html`<span class="hint" id=${`${id}-hint`}>${hint}</span>` : null} ${children}
  </div>`;
}

/**
 * A styled file input: a drop zone that also opens the file chooser (the real input covers it, so
 * keyboard, screen readers and tests use it as a plain file input), with a preview of each image.
 */
export function DropZone({
  id,
  label,
  hint,
  optional,
  prompt,
  multiple,
  onFiles,
}: {
  id: string;
  label: string;
  hint?: string | undefined;
  optional?: string | undefined;
  /** [before the link, the link-like word, after it]: "Drop a photo here or" "choose a file". */
  prompt: readonly [string, string];
  multiple?: boolean;
  onFiles: (files: File[]) => void;
}) {
  const [over, setOver] = useState(false);
  const [previews, setPreviews] = useState<{ url: string; name: string }[]>([]);
  useEffect(() => () => previews.forEach((p) => URL.revokeObjectURL(p.url)), [previews]);
  const take = (list: FileList | null | undefined) => {
    const files = [...(list ?? [])];
    setPreviews(files.slice(0, 6).map((f) => ({ url: URL.createObjectURL(f), name: f.name })));
    onFiles(files);
  };
  return html`<div class="field">
    <label for=${id}>${label}${optional ? html` <span class="optional">${optional}</span>` : null}</label>
    ${hint ? html`<span class="hint" id=${`${id}-hint`}>${hint}</span>` : null}
    <div
      class=${`drop${over ? ' over' : ''}`}
      onDragOver=${(e: DragEvent) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave=${() => setOver(false)}
      onDrop=${(e: DragEvent) => {
        e.preventDefault();
        setOver(false);
        take(e.dataTransfer?.files);
      }}
    >
      <input
        id=${id}
        type="file"
        accept="image/jpeg,image/png,image/webp"
        multiple=${multiple}
        aria-describedby=${hint ? `${id}-hint` : undefined}
        onChange=${(e: Event) => take((e.target as HTMLInputElement).files)}
      />
      ${previews.map((p) => html`<img src=${p.url} alt="" title=${p.name} />`)}
      <span class="drop-text" aria-hidden="true">
        ${previews.length ? previews.map((p) => p.name).join(', ') : html`${prompt[0]} <strong>${prompt[1]}</strong>`}
      </span>
    </div>
  </div>`;
}

/** An error from the API as its code and message, or a plain hint (a validation message) as it is. */
export function ErrorText({ error, prefix }: { error: unknown; prefix?: string | undefined }) {
  if (!error) return null;
  const msg =
    error instanceof ApiError
      ? `${prefix ? `${prefix} ` : ''}${error.message} (${error.code})`
      : typeof error === 'string'
        ? error
        : String(error);
  return html`<p class=${error instanceof ApiError ? 'error' : 'hint-error'} role="alert">${msg}</p>`;
}

/** A success line with what happens next, announced to screen readers. */
export function Done({ children, testid }: { children: ComponentChildren; testid?: string }) {
  return html`<div class="callout ok" role="status" data-testid=${testid}>${children}</div>`;
}

export function Badge({
  tone,
  children,
}: {
  tone?: 'ok' | 'warn' | 'danger' | 'neutral';
  children: ComponentChildren;
}) {
  return html`<span class=${`badge${tone ? ` ${tone}` : ''}`}>${children}</span>`;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return html`<div class="empty">${children}</div>`;
}

export interface ConfirmWords {
  readonly confirm: string;
  readonly cancel: string;
}

/**
 * An action that asks in the page before it runs (never a native confirm()): the question, the
 * fields it needs (a reason...), then the outcome the action reports, or its error.
 */
export function ConfirmAction({
  label,
  question,
  words,
  tone,
  fields,
  run,
  small,
  testid,
}: {
  label: string;
  question: string;
  words: ConfirmWords;
  tone?: 'danger' | undefined;
  fields?: readonly { id: string; label: string; hint?: string; multiline?: boolean; initial?: string }[];
  /** Runs the action; returns what to tell the user (an outcome; 'warn' when it did nothing), or throws. */
  run: (values: Record<string, string>) => Promise<string | { text: string; tone: 'ok' | 'warn' } | null>;
  small?: boolean;
  testid?: string;
}) {
  const [open, setOpen] = useState(false);
  const [values, setValues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ tone: 'ok' | 'warn' | 'error'; text: unknown } | null>(null);
  const go = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    try {
      const v = Object.fromEntries((fields ?? []).map((f) => [f.id, values[f.id] ?? f.initial ?? '']));
      const r = await run(v);
      setResult(r === null ? null : typeof r === 'string' ? { tone: 'ok', text: r } : r);
      setOpen(false);
    } catch (x) {
      setResult({ tone: 'error', text: x });
    } finally {
      setBusy(false);
    }
  };
  const cls = `${tone === 'danger' ? 'danger' : 'secondary'}${small ? ' small' : ''}`;
  return html`<span data-testid=${testid}>
    ${
      open
        ? html`<form class=${`confirm${tone === 'danger' ? ' danger' : ''}`} onSubmit=${go}>
            <p><strong>${question}</strong></p>
            ${(fields ?? []).map(
              (f) =>
                html`<div class="field">
                  <label for=${f.id}>${f.label}</label>
                  ${f.hint ? html`<span class="hint">${f.hint}</span>` : null}
                  ${
                    f.multiline
                      ? html`<textarea
                          id=${f.id}
                          rows="2"
                          value=${values[f.id] ?? f.initial ?? ''}
                          onInput=${(e: Event) =>
                            setValues({ ...values, [f.id]: (e.target as HTMLTextAreaElement).value })}
                        ></textarea>`
                      : html`<input
                          id=${f.id}
                          type="text"
                          value=${values[f.id] ?? f.initial ?? ''}
                          onInput=${(e: Event) =>
                            setValues({ ...values, [f.id]: (e.target as HTMLInputElement).value })}
                        />`
                  }
                </div>`,
            )}
            <div class="actions">
              <button type="submit" class=${tone === 'danger' ? 'danger' : ''} disabled=${busy}>
                ${words.confirm}
              </button>
              <button type="button" class="secondary" onClick=${() => setOpen(false)}>${words.cancel}</button>
            </div>
          </form>`
        : html`<button
            type="button"
            class=${cls}
            onClick=${() => {
              setResult(null);
              setOpen(true);
            }}
          >
            ${label}
          </button>`
    }
    ${
      result
        ? result.tone === 'error'
          ? html`<${ErrorText} error=${result.text} />`
          : html`<span class=${result.tone === 'ok' ? 'ok' : 'badge warn'} role="status" data-tone=${result.tone}>
              ${String(result.text)}</span
            >`
        : null
    }
  </span>`;
}

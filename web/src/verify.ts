import { useEffect, useState } from 'preact/hooks';
import { ApiError, api, html, toBase64, value } from './lib.js';
import { STRINGS, WORDS, type Lang } from './i18n.js';
import { DropZone } from './ui.js';

/** A parameter the agent appended to user_verification_url: before the hash, or after the hash's own '?'. */
function param(name: string): string | undefined {
  const inHash = location.hash.includes('?') ? location.hash.slice(location.hash.indexOf('?') + 1) : '';
  return new URLSearchParams(location.search).get(name) ?? new URLSearchParams(inHash).get(name) ?? undefined;
}

/**
 * The page behind a Data Rights Protocol status's `user_verification_url` (#/verify/<request id>):
 * the person an authorized agent acts for proves the address with the emailed code, and may add a
 * selfie, which (as on the rest of the portal) only goes to the DPO's review. Once proven, the
 * person goes back to the agent when it asked and its address is one an admin registered for it.
 */
export function VerifyPage({ lang, id }: { lang: Lang; id: string }) {
  const t = STRINGS[lang];
  const [code, setCode] = useState('');
  const [selfie, setSelfie] = useState<Blob | null>(null);
  const [returnTo, setReturnTo] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const back = param('redirect_to');
    const q = back ? `?redirect_to=${encodeURIComponent(back)}` : '';
    api<{ returnTo: string | null }>('GET', `/v1/drp/verify/${encodeURIComponent(id)}${q}`).then(
      (r) => setReturnTo(r.returnTo),
      () => setReturnTo(null),
    );
  }, [id]);
  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const base = `/v1/rights/requests/${encodeURIComponent(id)}`;
  const submit = (e: Event) => {
    e.preventDefault();
    if (!code.trim()) return setError(t.needCode);
    void run(async () => {
      await api('POST', `${base}/verify`, {
        code: code.trim(),
        ...(selfie ? { selfies: [await toBase64(selfie)] } : {}),
      });
      setDone(true);
      if (returnTo) location.assign(returnTo);
    });
  };
  const resend = () =>
    void run(async () => {
      await api('POST', `${base}/resend`, {});
      setNote(t.resent);
    });
  if (done)
    return html`<h1>${t.verifyTitle}</h1>
      <div class="callout ok" role="status" data-testid="verify-done"><p>${t.verifyDone}</p></div>`;
  return html`<h1>${t.verifyTitle}</h1>
    <p>${t.verifyIntro}</p>
    <form onSubmit=${submit} novalidate>
      <label for="code">${t.code}</label>
      <input
        id="code"
        type="text"
        inputmode="numeric"
        autocomplete="one-time-code"
        maxlength="12"
        value=${code}
        onInput=${value(setCode)}
      />
      <${DropZone}
        id="verify-selfie"
        label=${t.selfie}
        hint=${t.accessSelfieHelp}
        optional=${WORDS[lang].optional}
        prompt=${WORDS[lang].drop}
        onFiles=${(f: File[]) => setSelfie(f[0] ?? null)}
      />
      <button type="submit" disabled=${busy}>${t.verifySubmit}</button>
      <button type="button" class="secondary" disabled=${busy} onClick=${resend}>${t.resend}</button>
    </form>
    ${note ? html`<p role="status">${note}</p>` : null}
    ${
      error
        ? html`<p class="error" role="alert">
            ${error instanceof ApiError ? `${WORDS[lang].refused} ${error.message} (${error.code})` : String(error)}
          </p>`
        : null
    }`;
}

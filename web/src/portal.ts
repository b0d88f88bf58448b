import { useEffect, useRef, useState } from 'preact/hooks';
import { unzipSync, strFromU8 } from 'fflate';
import { ApiError, api, apiBlob, download, html, toBase64 } from './lib.js';
import { STRINGS, type Lang, type PortalAction, type PortalText } from './i18n.js';

interface PortalPurpose {
  key: string;
  name: string;
  description: string;
  retention: string;
  recipients: string[];
  notice: string;
  noticeVersion: string;
  controller: string;
}

function ErrorLine({ error, t }: { error: unknown; t: PortalText }) {
  if (!error) return null;
  const msg = error instanceof ApiError ? `${error.message} (${error.code})` : String(error);
  return html`<p class="error" role="alert">${t.error} ${msg}</p>`;
}

const value = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);

/** Runs one request at a time for a form: busy while it runs, its error kept for display. */
function useRun(): [boolean, unknown, (fn: () => Promise<void>) => Promise<void>, (e: unknown) => void] {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
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
  return [busy, error, run, setError];
}

export function PortalHome({ lang }: { lang: Lang }) {
  const t = STRINGS[lang];
  const [items, setItems] = useState<PortalPurpose[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api<{ items: PortalPurpose[] }>('GET', `/v1/portal/purposes?lang=${lang}`).then((r) => setItems(r.items), setError);
  }, [lang]);
  return html`<h1>${t.title}</h1>
    <p>${t.intro}</p>
    <h2>${t.purposes}</h2>
    <${ErrorLine} error=${error} t=${t} />
    ${items && !items.length ? html`<p>${t.noPurposes}</p>` : null}
    ${(items ?? []).map(
      (p) =>
        html`<div class="card" data-testid=${`purpose-${p.key}`}>
          <strong>${p.name}</strong>
          <p>${p.description}</p>
          <a class="button" href=${`#/consent/${p.key}`}>${t.join}</a>
        </div>`,
    )}
    <h2>${t.whatHeld}</h2>
    <p><a class="button" href="#/me">${t.whatHeld}</a></p>`;
}

/** File input plus an optional webcam capture; reports the chosen image as a Blob. */
function SelfieInput({
  t,
  onChange,
  id,
  label,
  help,
}: {
  t: PortalText;
  onChange: (b: Blob | null) => void;
  id: string;
  label: string;
  help: string;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const set = (b: Blob | null) => {
    setPreview(b ? URL.createObjectURL(b) : null);
    onChange(b);
  };
  const start = async () => {
    const s = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user' } });
    setStream(s);
    if (video.current) video.current.srcObject = s;
  };
  const snap = () => {
    const v = video.current!;
    const c = document.createElement('canvas');
    c.width = v.videoWidth;
    c.height = v.videoHeight;
    c.getContext('2d')!.drawImage(v, 0, 0);
    c.toBlob((b) => set(b), 'image/jpeg', 0.92);
    stream?.getTracks().forEach((tr) => tr.stop());
    setStream(null);
  };
  return html`<label for=${id}>${label}</label>
    <p class="muted" id=${`${id}-help`}>${help}</p>
    <input
      id=${id}
      type="file"
      accept="image/*"
      aria-describedby=${`${id}-help`}
      onChange=${(e: Event) => set((e.target as HTMLInputElement).files?.[0] ?? null)}
    />
    ${navigator.mediaDevices ? html`<div>${stream ? html`<button type="button" onClick=${snap}>${t.takePhoto}</button>` : html`<button type="button" class="secondary" onClick=${start}>${t.useCamera}</button>`}</div>` : null}
    <video ref=${video} autoplay playsinline muted hidden=${!stream} aria-label=${t.useCamera}></video>
    ${preview ? html`<p><img src=${preview} alt="" style="max-width:10rem;border-radius:6px" /></p>` : null}`;
}

/** The email step shared by enrollment and rights requests: the address, then a code is mailed. */
function EmailForm({
  t,
  id,
  email,
  setEmail,
  busy,
  onSubmit,
}: {
  t: PortalText;
  id: string;
  email: string;
  setEmail: (v: string) => void;
  busy: boolean;
  onSubmit: (e: Event) => void;
}) {
  return html`<form onSubmit=${onSubmit} novalidate>
    <label for=${id}>${t.email}</label>
    <p class="muted" id=${`${id}-help`}>${t.emailHelp}</p>
    <input
      id=${id}
      type="email"
      required
      autocomplete="email"
      aria-describedby=${`${id}-help`}
      value=${email}
      onInput=${value(setEmail)}
    />
    <button type="submit" disabled=${busy}>${t.sendCode}</button>
  </form>`;
}

function CodeInput({ t, code, setCode }: { t: PortalText; code: string; setCode: (v: string) => void }) {
  return html`<label for="code">${t.code}</label>
    <input
      id="code"
      type="text"
      inputmode="numeric"
      autocomplete="one-time-code"
      maxlength="12"
      value=${code}
      onInput=${value(setCode)}
    />`;
}

interface Enrolled {
  subjectId: string;
  consentId: string;
  receipt: unknown;
  quality: { faceSize?: number; sharpness?: number };
}

/**
 * Enrollment in two steps: the email address is proven with a mailed code before any face is
 * taken; then the code, the unticked consent box and the selfie. The answer is the same whether the
 * face joins the gallery or goes to the DPO's review, so the page says what is recorded, not more.
 */
export function ConsentPage({ lang, purpose }: { lang: Lang; purpose: string }) {
  const t = STRINGS[lang];
  const [p, setP] = useState<PortalPurpose | null>(null);
  const [email, setEmail] = useState('');
  const [enrollment, setEnrollment] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [agree, setAgree] = useState(false);
  const [selfie, setSelfie] = useState<Blob | null>(null);
  const [done, setDone] = useState<Enrolled | null>(null);
  const [busy, error, run, setError] = useRun();
  const typeCode = (v: string) => {
    setCode(v);
    setError(null);
  };
  useEffect(() => {
    api<{ items: PortalPurpose[] }>('GET', `/v1/portal/purposes?lang=${lang}`).then(
      (r) => setP(r.items.find((x) => x.key === purpose) ?? null),
      setError,
    );
  }, [lang, purpose]);
  const start = (e: Event) => {
    e.preventDefault();
    if (!email.trim()) return setError(t.needEmail);
    void run(async () => {
      const r = await api<{ enrollmentId: string }>('POST', '/v1/portal/enroll', {
        purpose,
        email: email.trim(),
        language: lang,
      });
      setCode('');
      setEnrollment(r.enrollmentId);
    });
  };
  const confirm = (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!code.trim()) return setError(t.needCode);
    if (!agree) return setError(t.mustTick);
    if (!selfie) return setError(t.needPhoto);
    void run(async () => {
      setDone(
        await api<Enrolled>('POST', `/v1/portal/enroll/${encodeURIComponent(enrollment!)}/confirm`, {
          code: code.trim(),
          consent: true,
          selfie: await toBase64(selfie),
        }),
      );
    });
  };
  if (!p)
    return html`<h1>…</h1>
      <${ErrorLine} error=${error} t=${t} />`;
  if (done) {
    return html`<h1>${p.name}</h1>
      <p class="ok" role="status">${t.recorded}</p>
      ${done.quality.faceSize !== undefined ? html`<p>${t.quality(done.quality.faceSize)}</p>` : null}
      <p>${t.nextSteps}</p>
      <button onClick=${() => download(`consent-receipt-${purpose}.json`, JSON.stringify(done.receipt, null, 2))}>
        ${t.receipt}
      </button>`;
  }
  return html`<h1>${p.name}</h1>
    <h2>${t.notice}</h2>
    <div class="notice" data-testid="notice">${p.notice}</div>
    ${
      !enrollment
        ? html`<${EmailForm} t=${t} id="email" email=${email} setEmail=${setEmail} busy=${busy} onSubmit=${start} />`
        : html`<p role="status">${t.codeSent(email.trim())}</p>
            <form onSubmit=${confirm} novalidate>
              <${CodeInput} t=${t} code=${code} setCode=${typeCode} />
              <label class="check"
                ><input
                  type="checkbox"
                  checked=${agree}
                  onChange=${(e: Event) => {
                    setAgree((e.target as HTMLInputElement).checked);
                    setError(null);
                  }}
                />
                <span>${t.consentBox}</span></label
              >
              <${SelfieInput} t=${t} onChange=${setSelfie} id="selfie" label=${t.selfie} help=${t.selfieHelp} />
              <${ErrorLine} error=${error} t=${t} />
              <button type="submit" disabled=${busy}>${t.submitConsent}</button>
              <button
                type="button"
                class="secondary"
                onClick=${() => {
                  setEnrollment(null);
                  setError(null);
                }}
              >
                ${t.startAgain}
              </button>
            </form>`
    }
    ${!enrollment ? html`<${ErrorLine} error=${error} t=${t} />` : null}`;
}

interface Manifest {
  nothingHeld: boolean;
  message?: string;
  subjects: {
    subjectId: string;
    purposes: { key: string; name: string; lawfulBasis: string; retention: string }[];
    consents: { id: string; state: string; givenAt: string; receipt: unknown }[];
    sightings: { mediaId: string; image: string }[];
    disclosures: { at: string; purpose: string; caseReference: string | null; recipient: string }[];
  }[];
}

type Review = 'pending' | 'done' | null;

interface PublicOutcome {
  state: string;
  kind: string;
  outcome: Record<string, unknown> | null;
  dueAt: string;
  review: Review;
}

interface ActionResult {
  requestId: string;
  downloadToken: string;
  state: string;
  outcome: Record<string, unknown> | null;
  review: Review;
  certificate: Record<string, unknown> | null;
}

/**
 * "What do you hold about me?": the proven email's data is answered at once; a selfie's search
 * goes to the DPO's review, whatever it found, so the page never tells what a face matched.
 */
export function AccessPage({ lang }: { lang: Lang }) {
  const t = STRINGS[lang];
  const [email, setEmail] = useState('');
  const [selfie, setSelfie] = useState<Blob | null>(null);
  const [req, setReq] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [token, setToken] = useState<string | null>(null);
  const [answer, setAnswer] = useState<PublicOutcome | null>(null);
  const [zip, setZip] = useState<Blob | null>(null);
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const [photos, setPhotos] = useState<Record<string, string>>({});
  const [result, setResult] = useState<ActionResult | null>(null);
  const [busy, error, run, setError] = useRun();
  const typeCode = (v: string) => {
    setCode(v);
    setError(null);
  };
  const ask = (e: Event) => {
    e.preventDefault();
    if (!email.trim()) return setError(t.needEmail);
    void run(async () => {
      const r = await api<{ requestId: string }>('POST', '/v1/rights/requests', {
        kind: 'access',
        email: email.trim(),
        language: lang,
      });
      setCode('');
      setReq(r.requestId);
    });
  };
  const verify = (e: Event) => {
    e.preventDefault();
    if (!code.trim()) return setError(t.needCode);
    void run(async () => {
      const base = `/v1/rights/requests/${encodeURIComponent(req!)}`;
      // Verified once: a retry after a later failure goes on with the same token.
      const tok =
        token ??
        (
          await api<{ state: string; downloadToken: string }>('POST', `${base}/verify`, {
            code: code.trim(),
            ...(selfie ? { selfies: [await toBase64(selfie)] } : {}),
          })
        ).downloadToken;
      setToken(tok);
      const a = await api<PublicOutcome>('POST', `${base}/self-service`, { token: tok });
      const blob = await apiBlob(`${base}/download?token=${encodeURIComponent(tok)}`);
      const files = unzipSync(new Uint8Array(await blob.arrayBuffer()));
      const m = JSON.parse(strFromU8(files['manifest.json']!)) as Manifest;
      const urls: Record<string, string> = {};
      for (const [name, bytes] of Object.entries(files))
        if (name.endsWith('.jpg')) urls[name] = URL.createObjectURL(new Blob([bytes], { type: 'image/jpeg' }));
      setZip(blob);
      setPhotos(urls);
      setAnswer(a);
      setManifest(m);
    });
  };
  const act = (kind: PortalAction) => {
    if (!window.confirm(t.confirm[kind])) return;
    void run(async () =>
      setResult(
        await api<ActionResult>('POST', `/v1/rights/requests/${encodeURIComponent(req!)}/actions`, { token, kind }),
      ),
    );
  };
  const pending = answer?.review === 'pending';
  if (result) {
    const certificate = result.certificate;
    return html`<h1>${t.whatHeld}</h1>
      <p class="ok" role="status">${t.done}</p>
      ${result.review === 'pending' ? html`<p data-testid="action-review-pending">${t.actionPending}</p>` : null}
      ${certificate ? html`<button onClick=${() => download('erasure-certificate.json', JSON.stringify(certificate, null, 2))}>${t.certificate}</button>` : null}`;
  }
  return html`<h1>${t.whatHeld}</h1>
    ${
      !req
        ? html`<p>${t.accessIntro}</p>
            <${EmailForm} t=${t} id="access-email" email=${email} setEmail=${setEmail} busy=${busy} onSubmit=${ask} />`
        : !manifest
          ? html`<p role="status">${t.codeSent(email.trim())}</p>
              <form onSubmit=${verify} novalidate>
                <${CodeInput} t=${t} code=${code} setCode=${typeCode} />
                <${SelfieInput}
                  t=${t}
                  onChange=${setSelfie}
                  id="access-selfie"
                  label=${t.selfieOptional}
                  help=${t.accessSelfieHelp}
                />
                <button type="submit" disabled=${busy}>${t.verify}</button>
                <button
                  type="button"
                  class="secondary"
                  onClick=${() => {
                    setReq(null);
                    setToken(null);
                    setError(null);
                  }}
                >
                  ${t.startAgain}
                </button>
              </form>`
          : html`<h2>${t.yourData}</h2>
              ${pending ? html`<p class="notice" role="status" data-testid="review-pending">${t.reviewPending}</p>` : null}
              ${manifest.nothingHeld ? html`<p class="ok" data-testid="nothing-held">${t.nothingHeld}</p>` : null}
              ${manifest.subjects.map(
                (s) =>
                  html`<div class="card" data-testid="subject">
                    <h2>${t.purposesHeld}</h2>
                    <ul>
                      ${s.purposes.map((p) => html`<li>${p.name} — ${p.lawfulBasis}, ${p.retention}</li>`)}
                    </ul>
                    <h2>${t.consents}</h2>
                    <ul>
                      ${s.consents.map((c) => html`<li>${c.givenAt.slice(0, 10)}: ${c.state}</li>`)}
                    </ul>
                    <h2>${t.photosOfMe}</h2>
                    ${
                      s.sightings.length
                        ? html`<div class="photos">
                            ${s.sightings.map((p) => html`<img src=${photos[p.image]} alt=${p.mediaId} />`)}
                          </div>`
                        : html`<p class="muted">${t.none}</p>`
                    }
                    <h2>${t.searches}</h2>
                    ${
                      s.disclosures.length
                        ? html`<ul>
                            ${s.disclosures.map((d) => html`<li>${d.at.slice(0, 16).replace('T', ' ')} — ${d.purpose}${d.caseReference ? `, ${d.caseReference}` : ''} (${d.recipient})</li>`)}
                          </ul>`
                        : html`<p class="muted">${t.none}</p>`
                    }
                  </div>`,
              )}
              <button class="secondary" onClick=${() => zip && download('my-data.zip', zip)}>${t.downloadZip}</button>
              ${
                manifest.nothingHeld && !pending
                  ? null
                  : html`<h2>${t.actions}</h2>
                      <button onClick=${() => act('withdraw-consent')}>${t.withdraw}</button>
                      <button onClick=${() => act('restriction')}>${t.restrict}</button>
                      <button onClick=${() => act('objection')}>${t.object}</button>
                      <button class="danger" onClick=${() => act('erasure')}>${t.erase}</button>`
              }`
    }
    <${ErrorLine} error=${error} t=${t} />`;
}

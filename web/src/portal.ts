import { useEffect, useRef, useState } from 'preact/hooks';
import { unzipSync, strFromU8 } from 'fflate';
import { ApiError, api, apiBlob, download, fmtDateTime, html, toBase64 } from './lib.js';
import { STRINGS, WORDS, duration, type Lang, type PortalAction, type PortalText } from './i18n.js';
import { qualityLevel } from './quality.js';
import { DropZone } from './ui.js';

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

/** An API error with its code; a validation hint as it is, never prefixed as a failure. */
function ErrorLine({ error, lang }: { error: unknown; lang: Lang }) {
  if (!error) return null;
  if (error instanceof ApiError)
    return html`<p class="error" role="alert">${WORDS[lang].refused} ${error.message} (${error.code})</p>`;
  return html`<p class="hint-error" role="alert">${String(error)}</p>`;
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
    <${ErrorLine} error=${error} lang=${lang} />
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

/** A drop zone for a photo plus an optional webcam capture; reports the chosen image as a Blob. */
function SelfieInput({
  t,
  lang,
  onChange,
  id,
  label,
  help,
  optional,
}: {
  t: PortalText;
  lang: Lang;
  onChange: (b: Blob | null) => void;
  id: string;
  label: string;
  help: string;
  optional?: boolean;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [snapped, setSnapped] = useState<string | null>(null);
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
    c.toBlob(
      (b) => {
        setSnapped(b ? URL.createObjectURL(b) : null);
        onChange(b);
      },
      'image/jpeg',
      0.92,
    );
    stream?.getTracks().forEach((tr) => tr.stop());
    setStream(null);
  };
  return html`<${DropZone}
      id=${id}
      label=${label}
      hint=${help}
      optional=${optional ? WORDS[lang].optional : undefined}
      prompt=${WORDS[lang].drop}
      onFiles=${(f: File[]) => {
        setSnapped(null);
        onChange(f[0] ?? null);
      }}
    />
    ${navigator.mediaDevices ? html`<div class="actions">${stream ? html`<button type="button" onClick=${snap}>${t.takePhoto}</button>` : html`<button type="button" class="secondary small" onClick=${start}>${t.useCamera}</button>`}</div>` : null}
    <video ref=${video} autoplay playsinline muted hidden=${!stream} aria-label=${t.useCamera}></video>
    ${snapped ? html`<p><img src=${snapped} alt="" class="thumb large" /></p>` : null}`;
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
      <${ErrorLine} error=${error} lang=${lang} />`;
  if (done) {
    const w = WORDS[lang];
    return html`<h1>${p.name}</h1>
      <div class="callout ok" role="status">
        <p><strong>${t.recorded}</strong></p>
        ${done.quality.faceSize !== undefined ? html`<p data-testid="quality">${w.quality[qualityLevel(done.quality)]}</p>` : null}
      </div>
      <p class="next" data-testid="next">${w.enrolledNext(p.name, duration(p.retention, lang))}</p>
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
        : html`<div class="callout" role="status">
              <p>${t.codeSent(email.trim())}</p>
              <p class="muted">${WORDS[lang].codeNext}</p>
            </div>
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
              <${SelfieInput}
                t=${t}
                lang=${lang}
                onChange=${setSelfie}
                id="selfie"
                label=${t.selfie}
                help=${t.selfieHelp}
              />
              <${ErrorLine} error=${error} lang=${lang} />
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
    ${!enrollment ? html`<${ErrorLine} error=${error} lang=${lang} />` : null}`;
}

interface Manifest {
  nothingHeld: boolean;
  message?: string;
  subjects: {
    subjectId: string;
    purposes: { key: string; name: string; lawfulBasis: string; retention: string; recipients: string[] }[];
    consents: { id: string; state: string; givenAt: string; receipt: unknown }[];
    sightings: { mediaId: string; image: string }[];
    disclosures: {
      at: string;
      kind?: string;
      /** Under the two-person rule, or once someone rejected it: where the match stands. */
      confirmation?: { required: number; state: string; confirmations: number };
      purpose: string;
      caseReference: string | null;
      recipient: string;
      recipientName?: string;
    }[];
    views?: { at: string; viewer: string; viewerName: string; what: string }[];
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
  const [asking, setAsking] = useState<PortalAction | null>(null);
  const [done, setDoneKind] = useState<PortalAction | null>(null);
  const act = (kind: PortalAction) => {
    setAsking(null);
    setDoneKind(kind);
    void run(async () =>
      setResult(
        await api<ActionResult>('POST', `/v1/rights/requests/${encodeURIComponent(req!)}/actions`, { token, kind }),
      ),
    );
  };
  const w = WORDS[lang];
  const pending = answer?.review === 'pending';
  if (result) {
    const certificate = result.certificate;
    return html`<h1>${t.whatHeld}</h1>
      <div class="callout ok" role="status">
        <p><strong>${t.done}</strong></p>
      </div>
      ${done ? html`<p class="next" data-testid="next">${w.actionNext[done]}</p>` : null}
      ${result.review === 'pending' ? html`<p data-testid="action-review-pending">${t.actionPending}</p>` : null}
      ${certificate ? html`<button onClick=${() => download('erasure-certificate.json', JSON.stringify(certificate, null, 2))}>${t.certificate}</button>` : null}`;
  }
  return html`<h1>${t.whatHeld}</h1>
    ${
      !req
        ? html`<p>${t.accessIntro}</p>
            <${EmailForm} t=${t} id="access-email" email=${email} setEmail=${setEmail} busy=${busy} onSubmit=${ask} />`
        : !manifest
          ? html`<div class="callout" role="status">
                <p>${t.codeSent(email.trim())}</p>
                <p class="muted">${WORDS[lang].codeNext}</p>
              </div>
              <form onSubmit=${verify} novalidate>
                <${CodeInput} t=${t} code=${code} setCode=${typeCode} />
                <${SelfieInput}
                  t=${t}
                  lang=${lang}
                  onChange=${setSelfie}
                  id="access-selfie"
                  label=${t.selfie}
                  optional=${true}
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
                      ${s.purposes.map(
                        (p) =>
                          html`<li>
                            <strong>${p.name}</strong>
                            ${` — ${w.basis[p.lawfulBasis] ?? p.lawfulBasis}, ${w.keptFor(duration(p.retention, lang))}`}${p.recipients?.length ? html`<br /><span class="muted">${w.recipientsLabel}: ${p.recipients.join(', ')}</span>` : null}
                          </li>`,
                      )}
                    </ul>
                    <h2>${t.consents}</h2>
                    <ul>
                      ${s.consents.map((c) => html`<li>${fmtDateTime(c.givenAt)}: ${w.consentState[c.state] ?? c.state}</li>`)}
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
                            ${s.disclosures.map((d) => html`<li>${fmtDateTime(d.at)} — ${d.recipientName ?? d.recipient}${d.caseReference ? ` (${d.caseReference})` : ''}${d.confirmation ? ` — ${t.matchState(d.confirmation.state, d.confirmation.confirmations, d.confirmation.required)}` : ''}</li>`)}
                          </ul>`
                        : html`<p class="muted">${t.none}</p>`
                    }
                    <h2>${w.viewed}</h2>
                    ${
                      s.views?.length
                        ? html`<ul data-testid="views">
                            ${s.views.map((v) => html`<li>${fmtDateTime(v.at)} — ${v.viewerName}: ${w.viewWhat[v.what] ?? v.what}</li>`)}
                          </ul>`
                        : html`<p class="muted">${t.none}</p>`
                    }
                  </div>`,
              )}
              <p class="next" data-testid="next">${w.dataNext}</p>
              <button class="secondary" onClick=${() => zip && download('my-data.zip', zip)}>${t.downloadZip}</button>
              ${
                manifest.nothingHeld && !pending
                  ? null
                  : html`<h2>${t.actions}</h2>
                      <div class="actions">
                        <button class="secondary" onClick=${() => setAsking('withdraw-consent')}>${t.withdraw}</button>
                        <button class="secondary" onClick=${() => setAsking('restriction')}>${t.restrict}</button>
                        <button class="secondary" onClick=${() => setAsking('objection')}>${t.object}</button>
                        <button class="danger" onClick=${() => setAsking('erasure')}>${t.erase}</button>
                        ${
                          manifest.subjects.some((s) => s.disclosures.some((d) => d.kind === 'identify'))
                            ? html`<button class="secondary" onClick=${() => setAsking('contest')}>
                                ${t.contest}
                              </button>`
                            : null
                        }
                      </div>
                      ${
                        asking
                          ? html`<div
                              class=${`confirm${asking === 'erasure' || asking === 'objection' ? ' danger' : ''}`}
                              role="alertdialog"
                              aria-labelledby="ask"
                              data-testid="confirm"
                            >
                              <p id="ask"><strong>${t.confirm[asking]}</strong></p>
                              <div class="actions">
                                <button
                                  class=${asking === 'erasure' || asking === 'objection' ? 'danger' : ''}
                                  disabled=${busy}
                                  onClick=${() => act(asking)}
                                >
                                  ${w.confirmYes}
                                </button>
                                <button class="secondary" onClick=${() => setAsking(null)}>${w.cancel}</button>
                              </div>
                            </div>`
                          : null
                      }`
              }`
    }
    <${ErrorLine} error=${error} lang=${lang} />`;
}

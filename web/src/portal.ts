import { useEffect, useRef, useState } from 'preact/hooks';
import { unzipSync, strFromU8 } from 'fflate';
import { ApiError, api, download, html, toBase64 } from './lib.js';
import { STRINGS, type Lang } from './i18n.js';

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

function ErrorLine({ error, t }: { error: unknown; t: typeof STRINGS.en }) {
  if (!error) return null;
  const msg = error instanceof ApiError ? `${error.message} (${error.code})` : String(error);
  return html`<p class="error" role="alert">${t.error} ${msg}</p>`;
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
        html`<div class="card">
          <strong>${p.name}</strong>
          <p>${p.description}</p>
          <a class="button" href=${`#/consent/${p.key}`}>${t.join}</a>
        </div>`,
    )}
    <h2>${t.whatHeld}</h2>
    <p><a class="button" href="#/me">${t.whatHeld}</a></p>`;
}

/** File input plus an optional webcam capture; reports the chosen image as a Blob. */
function SelfieInput({ t, onChange, id }: { t: typeof STRINGS.en; onChange: (b: Blob | null) => void; id: string }) {
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
  return html`<label for=${id}>${t.selfie}</label>
    <p class="muted" id=${`${id}-help`}>${t.selfieHelp}</p>
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

export function ConsentPage({ lang, purpose }: { lang: Lang; purpose: string }) {
  const t = STRINGS[lang];
  const [p, setP] = useState<PortalPurpose | null>(null);
  const [agree, setAgree] = useState(false);
  const [email, setEmail] = useState('');
  const [selfie, setSelfie] = useState<Blob | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<{ receipt: unknown; quality: { faceSize: number; sharpness: number } } | null>(null);
  useEffect(() => {
    api<{ items: PortalPurpose[] }>('GET', `/v1/portal/purposes?lang=${lang}`).then(
      (r) => setP(r.items.find((x) => x.key === purpose) ?? null),
      setError,
    );
  }, [lang, purpose]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (!agree) return setError(t.mustTick);
    if (!selfie) return setError(t.needPhoto);
    setBusy(true);
    try {
      const r = await api<{ receipt: unknown; quality: { faceSize: number; sharpness: number } }>(
        'POST',
        '/v1/portal/enroll',
        { purpose, consent: true, selfie: await toBase64(selfie), language: lang, ...(email ? { email } : {}) },
      );
      setDone(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (!p)
    return html`<h1>…</h1>
      <${ErrorLine} error=${error} t=${t} />`;
  if (done) {
    return html`<h1>${p.name}</h1>
      <p class="ok" role="status">${t.enrolled}</p>
      <p>${t.quality(done.quality.faceSize, done.quality.sharpness)}</p>
      <button onClick=${() => download(`consent-receipt-${purpose}.json`, JSON.stringify(done.receipt, null, 2))}>
        ${t.receipt}
      </button>`;
  }
  return html`<h1>${p.name}</h1>
    <h2>${t.notice}</h2>
    <div class="notice" data-testid="notice">${p.notice}</div>
    <form onSubmit=${submit} novalidate>
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
      <label for="email">${t.email}</label>
      <input
        id="email"
        type="email"
        autocomplete="email"
        value=${email}
        onInput=${(e: Event) => setEmail((e.target as HTMLInputElement).value)}
      />
      <${SelfieInput} t=${t} onChange=${setSelfie} id="selfie" />
      <${ErrorLine} error=${typeof error === 'string' ? error : error} t=${t} />
      <button type="submit" disabled=${busy}>${t.submitConsent}</button>
    </form>`;
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

export function AccessPage({ lang }: { lang: Lang }) {
  const t = STRINGS[lang];
  const [email, setEmail] = useState('');
  const [selfie, setSelfie] = useState<Blob | null>(null);
  const [req, setReq] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [token, setToken] = useState<string | null>(null);
  const [zip, setZip] = useState<Blob | null>(null);
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const [photos, setPhotos] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<{ kind: string; certificate: unknown } | null>(null);
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
  const ask = (e: Event) => {
    e.preventDefault();
    void run(async () =>
      setReq(
        (await api<{ requestId: string }>('POST', '/v1/rights/requests', { kind: 'access', email, language: lang }))
          .requestId,
      ),
    );
  };
  const verify = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const v = await api<{ downloadToken: string }>('POST', `/v1/rights/requests/${req}/verify`, {
        code: code.trim(),
        selfies: selfie ? [await toBase64(selfie)] : [],
      });
      setToken(v.downloadToken);
      await api('POST', `/v1/rights/requests/${req}/self-service`, { token: v.downloadToken });
      const res = await fetch(`/v1/rights/requests/${req}/download?token=${encodeURIComponent(v.downloadToken)}`);
      const blob = await res.blob();
      setZip(blob);
      const files = unzipSync(new Uint8Array(await blob.arrayBuffer()));
      const m = JSON.parse(strFromU8(files['manifest.json']!)) as Manifest;
      const urls: Record<string, string> = {};
      for (const [name, bytes] of Object.entries(files))
        if (name.endsWith('.jpg')) urls[name] = URL.createObjectURL(new Blob([bytes], { type: 'image/jpeg' }));
      setPhotos(urls);
      setManifest(m);
    });
  };
  const act = (kind: 'withdraw-consent' | 'erasure' | 'restriction' | 'objection') => {
    if (!window.confirm(t.confirm[kind])) return;
    void run(async () => {
      const r = await api<{ certificate: unknown }>('POST', `/v1/rights/requests/${req}/actions`, { token, kind });
      setResult({ kind, certificate: r.certificate });
    });
  };
  if (result) {
    return html`<h1>${t.whatHeld}</h1>
      <p class="ok" role="status">${t.done}</p>
      ${result.certificate ? html`<button onClick=${() => download('erasure-certificate.json', JSON.stringify(result.certificate, null, 2))}>${t.certificate}</button>` : null}`;
  }
  return html`<h1>${t.whatHeld}</h1>
    ${
      !req
        ? html`<p>${t.accessIntro}</p>
            <form onSubmit=${ask}>
              <label for="access-email">Email</label>
              <input
                id="access-email"
                type="email"
                required
                autocomplete="email"
                value=${email}
                onInput=${(e: Event) => setEmail((e.target as HTMLInputElement).value)}
              />
              <button type="submit" disabled=${busy}>${t.sendCode}</button>
            </form>`
        : !manifest
          ? html`<p role="status">${t.codeSent}</p>
              <form onSubmit=${verify}>
                <label for="code">${t.code}</label>
                <input
                  id="code"
                  type="text"
                  inputmode="numeric"
                  autocomplete="one-time-code"
                  value=${code}
                  onInput=${(e: Event) => setCode((e.target as HTMLInputElement).value)}
                />
                <${SelfieInput} t=${t} onChange=${setSelfie} id="access-selfie" />
                <button type="submit" disabled=${busy}>${t.verify}</button>
              </form>`
          : html`<h2>${t.yourData}</h2>
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
                    <div class="photos">
                      ${s.sightings.map((p) => html`<img src=${photos[p.image]} alt=${p.mediaId} />`)}
                    </div>
                    <h2>${t.searches}</h2>
                    <ul>
                      ${s.disclosures.map((d) => html`<li>${d.at.slice(0, 16).replace('T', ' ')} — ${d.purpose}${d.caseReference ? `, ${d.caseReference}` : ''} (${d.recipient})</li>`)}
                    </ul>
                  </div>`,
              )}
              <button class="secondary" onClick=${() => zip && download('my-data.zip', zip)}>${t.downloadZip}</button>
              ${
                manifest.nothingHeld
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

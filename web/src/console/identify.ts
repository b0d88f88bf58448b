import { useState } from 'preact/hooks';
import { api, html, toBase64, value } from '../lib.js';
import { DropZone, ErrorText, Field } from '../ui.js';
import { Thumb } from './subject.js';
import { PurposeSelect, getKey, subjectHref, useC, usePurposes, type Purpose } from './shared.js';
import { MatchConfirmation, type Confirmation } from './match-confirmation.js';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Candidate {
  subjectId: string;
  similarity: number;
  rank: number;
  estimatedFalseMatchRate: number;
  /** Under a purpose with the two-person rule: the match counts only once confirmed. */
  confirmation?: Confirmation;
}

/** The identify answer; `faces` and `gallerySize` are the per-face answer when the API gives it. */
interface IdentifyAnswer {
  searchId: string;
  purpose: string;
  facesInProbe: number;
  threshold: number;
  decision: 'match' | 'no-match';
  candidates: Candidate[];
  model: string;
  gallerySize?: number;
  /** Target false-positive identification rate the threshold was set for, when the API gives it. */
  fpir?: number;
  faces?: { face?: number; box: Box; decision?: 'match' | 'no-match'; candidates: Candidate[] }[];
}

interface FaceResult {
  n: number;
  /** The face's position in the search record (the API's numbering). */
  face: number;
  box: Box;
  searched: boolean;
  decision?: 'match' | 'no-match' | undefined;
  candidates: Candidate[];
}

const area = (b: Box) => b.width * b.height;

/** Every detected face, numbered left to right, with its candidates (only the largest face's until the API answers per face). */
function facesOf(answer: IdentifyAnswer, detected: Box[]): FaceResult[] {
  if (answer.faces?.length)
    return [...answer.faces]
      .sort((a, b) => a.box.x - b.box.x)
      .map((f, i) => ({
        n: i + 1,
        face: f.face ?? 0,
        box: f.box,
        searched: true,
        decision: f.decision,
        candidates: f.candidates,
      }));
  const boxes = [...detected].sort((a, b) => a.x - b.x);
  const largest = boxes.reduce<Box | null>((m, b) => (!m || area(b) > area(m) ? b : m), null);
  return boxes.map((b, i) => ({
    n: i + 1,
    face: 0,
    box: b,
    searched: b === largest,
    candidates: b === largest ? answer.candidates : [],
  }));
}

function Probe({
  url,
  size,
  faces,
  label,
}: {
  url: string;
  size: { width: number; height: number };
  faces: FaceResult[];
  label: (n: number) => string;
}) {
  return html`<div class="probe" data-testid="probe">
    <img src=${url} alt="" />
    <svg viewBox=${`0 0 ${size.width} ${size.height}`} preserveAspectRatio="none" aria-hidden="true">
      ${faces.map((f) => {
        // About 20 screen pixels whatever the photo's size: it is shown at most 28rem tall and ~35rem wide.
        const tag = 20 / Math.min(1, 448 / size.height, 560 / size.width);
        return html`<g data-testid="face-box">
          <rect
            class=${`facebox${f.candidates.length ? ' matched' : ''}`}
            x=${f.box.x}
            y=${f.box.y}
            width=${f.box.width}
            height=${f.box.height}
          />
          <rect class="facetag" x=${f.box.x} y=${Math.max(0, f.box.y - tag)} width=${tag} height=${tag} />
          <text
            class="facetag-text"
            x=${f.box.x + tag / 2}
            y=${Math.max(0, f.box.y - tag) + tag * 0.72}
            text-anchor="middle"
            style=${`font-size:${tag * 0.7}px`}
            >${f.n}</text
          >
        </g>`;
      })}
    </svg>
    <span class="sr-only">${faces.map((f) => label(f.n)).join(', ')}</span>
  </div>`;
}

export function Identify() {
  const c = useC();
  const t = c.identify;
  const purposes = usePurposes();
  const [purpose, setPurpose] = useState('');
  const [caseRef, setCaseRef] = useState('');
  const [why, setWhy] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [res, setRes] = useState<{
    answer: IdentifyAnswer;
    faces: FaceResult[];
    url: string;
    size: { width: number; height: number };
    purpose: Purpose | undefined;
  } | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const go = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    if (!file) return setErr(t.needPhoto);
    setRes(null);
    setBusy(true);
    try {
      const image = await toBase64(file);
      const p = purposes.find((x) => x.key === purpose);
      const [answer, detected] = await Promise.all([
        api<IdentifyAnswer>(
          'POST',
          '/v1/identify',
          { purpose, image, ...(caseRef.trim() ? { caseRef } : {}), ...(why.trim() ? { justification: why } : {}) },
          getKey(),
        ),
        api<{ width: number; height: number; faces: { box: Box }[] }>('POST', '/v1/detect', { image }, getKey()).catch(
          () => null,
        ),
      ]);
      const boxes = detected?.faces.map((f) => f.box) ?? [];
      const url = URL.createObjectURL(file);
      const size = await new Promise<{ width: number; height: number }>((resolve) => {
        if (detected) return resolve({ width: detected.width, height: detected.height });
        const i = new Image();
        i.onload = () => resolve({ width: i.naturalWidth, height: i.naturalHeight });
        i.src = url;
      });
      setRes({ answer, faces: facesOf(answer, boxes), url, size, purpose: p });
    } catch (x) {
      setErr(x);
    } finally {
      setBusy(false);
    }
  };
  const a = res?.answer;
  const gallery = a ? (a.gallerySize ?? res?.purpose?.templates ?? null) : null;
  const required = res?.faces.flatMap((f) => f.candidates).find((k) => k.confirmation)?.confirmation?.required ?? 0;
  return html`<h1>${t.title}</h1>
    <p class="lede">${t.intro}</p>
    <form class="card" onSubmit=${go} novalidate>
      <div class="row">
        <${Field} id="i-purpose" label=${c.purpose}>
          <${PurposeSelect} id="i-purpose" purposes=${purposes} value=${purpose} onChange=${setPurpose} />
        <//>
        <${Field} id="i-case" label=${t.caseRef}>
          <input id="i-case" type="text" value=${caseRef} onInput=${value(setCaseRef)} />
        <//>
      </div>
      <${Field} id="i-why" label=${t.why}>
        <input id="i-why" type="text" value=${why} onInput=${value(setWhy)} />
      <//>
      <${DropZone}
        id="i-image"
        label=${t.probe}
        hint=${t.probeHint}
        prompt=${c.drop}
        onFiles=${(f: File[]) => setFile(f[0] ?? null)}
      />
      <button type="submit" disabled=${busy}>${busy ? t.searching : t.search}</button>
    </form>
    <${ErrorText} error=${err} />
    ${
      a && res
        ? html`<section class="card" data-testid="identify-result">
            <div class="page-head">
              <h2 style="margin-top:0">
                ${a.decision === 'match' ? html`<span class="badge ok">${t.match}</span>` : html`<span class="badge neutral">${t.noMatch}</span>`}
                ${' '}${t.facesFound(res.faces.length || a.facesInProbe)}
              </h2>
              <span class="muted mono">${a.searchId}</span>
            </div>
            <div class="grid" style="grid-template-columns:minmax(0,1.2fr) minmax(0,1fr)">
              <${Probe} url=${res.url} size=${res.size} faces=${res.faces} label=${t.faceN} />
              <dl class="facts" data-testid="decision-facts">
                <dt>${t.threshold}</dt>
                <dd>${a.threshold}</dd>
                <dt>${t.gallery}</dt>
                <dd>${gallery === null ? '—' : t.templatesN(gallery)}</dd>
                ${
                  a.fpir !== undefined
                    ? html`<dt>${t.fpir}</dt>
                        <dd>${t.fpirValue(a.fpir)}</dd>`
                    : null
                }
                <dt>${t.model}</dt>
                <dd><code>${a.model}</code></dd>
              </dl>
            </div>
            <p class="muted">${t.fmrMeaning}</p>
            ${required ? html`<p class="callout" data-testid="two-person-rule">${c.matches.rule(required)}</p>` : null}
            <div class="faces">
              ${res.faces.map(
                (f) =>
                  html`<div data-testid="face-result">
                    <h3>
                      ${t.faceN(f.n)}
                      ${f.decision ? html` <span class=${`badge ${f.decision === 'match' ? 'ok' : 'neutral'}`}>${f.decision === 'match' ? t.match : t.noMatch}</span>` : null}
                    </h3>
                    ${
                      !f.searched
                        ? html`<p class="muted">${t.notSearched}</p>`
                        : !f.candidates.length
                          ? html`<p>${t.noneAbove(a.threshold)}</p>`
                          : f.candidates.map(
                              (k) =>
                                html`<div class="candidate" data-testid="candidate">
                                  <${Thumb}
                                    path=${res.purpose?.keepSourceImages ? `/v1/subjects/${encodeURIComponent(k.subjectId)}/photo?purpose=${encodeURIComponent(a.purpose)}` : null}
                                    alt=${t.photoOf(k.subjectId)}
                                    why=${res.purpose?.keepSourceImages ? t.noPhotoAccess : t.noPhotoPurpose}
                                  />
                                  <div>
                                    <a href=${subjectHref(k.subjectId)}><code>${k.subjectId}</code></a>
                                    <div class="muted">
                                      ${t.rank(k.rank)} · ${t.fmr(k.estimatedFalseMatchRate, gallery)}
                                    </div>
                                    ${
                                      k.confirmation
                                        ? html`<${MatchConfirmation}
                                            key=${`${a.searchId}/${f.face}/${k.subjectId}`}
                                            searchId=${a.searchId}
                                            face=${f.face}
                                            subjectId=${k.subjectId}
                                            initial=${k.confirmation}
                                          />`
                                        : null
                                    }
                                  </div>
                                  <div class="num">
                                    <strong>${k.similarity.toFixed(3)}</strong>
                                    <div>
                                      <span class="meter" aria-hidden="true"
                                        ><span style=${`width:${Math.max(0, Math.min(1, k.similarity)) * 100}%`}></span
                                      ></span>
                                    </div>
                                  </div>
                                </div>`,
                            )
                    }
                  </div>`,
              )}
            </div>
            ${res.purpose && !res.purpose.keepSourceImages ? html`<p class="muted">${t.whyNoPhotos(res.purpose.name)}</p>` : null}
          </section>`
        : null
    }`;
}

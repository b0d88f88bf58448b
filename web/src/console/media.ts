import { useState } from 'preact/hooks';
import { api, apiBlob, html, toBase64 } from '../lib.js';
import { DropZone, ErrorText, Field } from '../ui.js';
import { PurposeSelect, getKey, useC, usePurposes } from './shared.js';

interface Ingested {
  file: string;
  status: string;
  mediaId?: string;
  faces?: number;
  sightings?: number;
  reason?: string;
}

export function Media() {
  const c = useC();
  const t = c.media;
  const purposes = usePurposes();
  const [purpose, setPurpose] = useState('');
  const [files, setFiles] = useState<File[]>([]);
  const [done, setDone] = useState<Ingested[]>([]);
  const [preview, setPreview] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const go = async (e: Event) => {
    e.preventDefault();
    setErr(null);
    if (!files.length) return setErr(t.needFiles);
    setDone([]);
    setBusy(true);
    const out: Ingested[] = [];
    for (const f of files) {
      try {
        out.push(await api('POST', '/v1/media', { purpose, image: await toBase64(f), filename: f.name }, getKey()));
      } catch (x) {
        setErr(x);
        out.push({ file: f.name, status: 'failed' });
      }
      setDone([...out]);
    }
    setBusy(false);
  };
  const show = async (id: string) =>
    setPreview(URL.createObjectURL(await apiBlob(`/v1/media/${id}/redacted`, getKey())));
  return html`<h1>${t.title}</h1>
    <p class="lede">${t.intro}</p>
    <form class="card" onSubmit=${go} novalidate>
      <${Field} id="m-purpose" label=${c.purpose}>
        <${PurposeSelect} id="m-purpose" purposes=${purposes} value=${purpose} onChange=${setPurpose} />
      <//>
      <${DropZone}
        id="m-files"
        label=${t.photos}
        hint=${t.photosHint}
        prompt=${c.dropMany}
        multiple=${true}
        onFiles=${setFiles}
      />
      <button type="submit" disabled=${busy}>${t.ingest}</button>
    </form>
    ${
      files.length && (busy || done.length)
        ? html`<div class="field">
            <label for="m-progress">${t.progress}</label>
            <progress id="m-progress" max=${files.length} value=${done.length}></progress>
            <span class="muted"> ${done.length}/${files.length}</span>
          </div>`
        : null
    }
    <${ErrorText} error=${err} />
    ${
      done.length
        ? html`<div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>${t.file}</th>
                  <th>${c.status}</th>
                  <th class="num">${t.faces}</th>
                  <th class="num">${t.sightings}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${done.map(
                  (d) =>
                    html`<tr>
                      <td>${d.file}</td>
                      <td>
                        ${t.status[d.status as keyof typeof t.status] ?? d.status}${d.reason ? html` <span class="muted">(${d.reason})</span>` : null}
                      </td>
                      <td class="num">${d.faces ?? ''}</td>
                      <td class="num">${d.sightings ?? ''}</td>
                      <td>
                        ${d.mediaId ? html`<button class="secondary small" onClick=${() => show(d.mediaId!)}>${t.preview}</button>` : null}
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : null
    }
    ${
      preview
        ? html`<figure class="card">
            <img src=${preview} alt=${t.previewAlt} style="max-width:100%" />
            <figcaption class="muted">${t.previewAlt}</figcaption>
          </figure>`
        : null
    }`;
}

import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './lib.js';
import { CONSOLE, STRINGS, type Lang } from './i18n.js';
import { Logo } from './ui.js';
import { AccessPage, ConsentPage, PortalHome } from './portal.js';
import { VerifyPage } from './verify.js';
import { LangContext, getKey, setKey } from './console/shared.js';
import { Login } from './console/login.js';
import { Dashboard } from './console/dashboard.js';
import { Purposes } from './console/purposes.js';
import { Subjects } from './console/subjects.js';
import { SubjectPage } from './console/subject.js';
import { Identify } from './console/identify.js';
import { Media } from './console/media.js';
import { Rights } from './console/rights.js';
import { Orders } from './console/orders.js';
import { Breaches } from './console/breaches.js';
import { Audit } from './console/audit.js';

function useHash(): string {
  const [h, setH] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setH(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return h;
}

type NavKey = keyof (typeof CONSOLE)['en']['nav'];
const PAGES: Record<string, () => unknown> = {
  dashboard: Dashboard,
  subjects: Subjects,
  identify: Identify,
  media: Media,
  purposes: Purposes,
  rights: Rights,
  orders: Orders,
  breaches: Breaches,
  audit: Audit,
};
const GROUPS: ['gallery' | 'oversight', NavKey[]][] = [
  ['gallery', ['dashboard', 'subjects', 'identify', 'media', 'purposes']],
  ['oversight', ['rights', 'orders', 'breaches', 'audit']],
];

function LangButton({ lang, setLang }: { lang: Lang; setLang: (l: Lang) => void }) {
  const other = lang === 'en' ? 'fr' : 'en';
  return html`<button class="secondary small" onClick=${() => setLang(other)} lang=${other}>
    ${STRINGS[lang].language}
  </button>`;
}

function Console({ parts, lang, setLang }: { parts: string[]; lang: Lang; setLang: (l: Lang) => void }) {
  const [, setAuthed] = useState(0);
  const c = CONSOLE[lang];
  const key = getKey();
  const name = parts[1] && PAGES[parts[1]] ? parts[1] : 'dashboard';
  const Page = PAGES[name]!;
  const subject = name === 'subjects' && parts[2] ? decodeURIComponent(parts[2]) : null;
  useEffect(() => {
    document.title = `${c.nav[name as NavKey]} · Veil`;
  }, [name, lang]);
  return html`<${LangContext.Provider} value=${lang}>
    <header class="topbar">
      <a class="brand" href="#/console"><${Logo} /> Veil <small>${c.consoleName}</small></a>
      <nav aria-label=${c.account}>
        <${LangButton} lang=${lang} setLang=${setLang} />
        ${
          key
            ? html`<a
                href="#/console"
                onClick=${() => {
                  setKey(null);
                  setAuthed((x) => x + 1);
                }}
                >${c.signOut}</a
              >`
            : null
        }
        <a href="#/">${c.portal}</a>
      </nav>
    </header>
    ${
      key
        ? html`<div class="shell">
            <nav class="sidebar" aria-label=${c.consoleName}>
              ${GROUPS.map(
                ([g, keys]) =>
                  html`<div class="group" aria-hidden="true">${c.groups[g]}</div>
                    ${keys.map((k) => html`<a href=${`#/console/${k}`} aria-current=${name === k ? 'page' : undefined}>${c.nav[k]}</a>`)}`,
              )}
            </nav>
            <main>${subject ? html`<${SubjectPage} id=${subject} />` : html`<${Page} />`}</main>
          </div>`
        : html`<main class="narrow"><${Login} onDone=${() => setAuthed((x) => x + 1)} /></main>`
    }
  <//>`;
}

function App() {
  const hash = useHash();
  const [lang, setLang] = useState<Lang>(
    (localStorage.getItem('veil.lang') as Lang) || (navigator.language.startsWith('fr') ? 'fr' : 'en'),
  );
  useEffect(() => {
    document.documentElement.lang = lang;
    localStorage.setItem('veil.lang', lang);
  }, [lang]);
  const t = STRINGS[lang];
  const parts = hash.slice(2).split('/');
  useEffect(() => {
    if (parts[0] !== 'console') document.title = `${t.title} · Veil`;
  }, [lang, parts[0]]);
  if (parts[0] === 'console') return html`<${Console} parts=${parts} lang=${lang} setLang=${setLang} />`;
  const body =
    parts[0] === 'consent' && parts[1]
      ? html`<${ConsentPage} lang=${lang} purpose=${decodeURIComponent(parts[1])} />`
      : parts[0] === 'verify' && parts[1]
        ? html`<${VerifyPage} lang=${lang} id=${decodeURIComponent(parts[1].split('?')[0]!)} />`
        : parts[0] === 'me'
          ? html`<${AccessPage} lang=${lang} />`
          : html`<${PortalHome} lang=${lang} />`;
  // The public header has no link to the operator console: people have no use for it.
  return html`<header class="topbar">
      <a class="brand" href="#/"><${Logo} /> Veil</a>
      <nav aria-label=${t.title}>
        <a href="#/me">${t.whatHeld}</a>
        <${LangButton} lang=${lang} setLang=${setLang} />
      </nav>
    </header>
    <main class="narrow">${body}</main>`;
}

render(html`<${App} />`, document.getElementById('app')!);

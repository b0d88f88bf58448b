import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './lib.js';
import { STRINGS, type Lang } from './i18n.js';
import { AccessPage, ConsentPage, PortalHome } from './portal.js';
import { Audit, Dashboard, Identify, Login, Media, Purposes, Rights, Subjects, getKey } from './console.js';

function useHash(): string {
  const [h, setH] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setH(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return h;
}

const CONSOLE_PAGES: [string, string, () => unknown][] = [
  ['dashboard', 'Dashboard', Dashboard],
  ['purposes', 'Purposes', Purposes],
  ['subjects', 'Subjects', Subjects],
  ['identify', 'Identify', Identify],
  ['media', 'Media', Media],
  ['rights', 'Rights queue', Rights],
  ['audit', 'Audit', Audit],
];

function App() {
  const hash = useHash();
  const [lang, setLang] = useState<Lang>(
    (localStorage.getItem('veil.lang') as Lang) || (navigator.language.startsWith('fr') ? 'fr' : 'en'),
  );
  const [, setAuthed] = useState(0);
  useEffect(() => {
    document.documentElement.lang = lang;
    localStorage.setItem('veil.lang', lang);
  }, [lang]);
  const t = STRINGS[lang];
  const parts = hash.slice(2).split('/');
  if (parts[0] === 'console') {
    const key = getKey();
    const page = CONSOLE_PAGES.find(([k]) => k === (parts[1] || 'dashboard')) ?? CONSOLE_PAGES[0]!;
    return html`<header>
        <strong>Veil console</strong>
        <nav aria-label="Console">
          ${CONSOLE_PAGES.map(([k, label]) => html`<a href=${`#/console/${k}`} aria-current=${page[0] === k ? 'page' : undefined}>${label}</a>`)}
        </nav>
        <nav>
          ${
            key
              ? html`<a
                  href="#/console"
                  onClick=${() => {
                    sessionStorage.clear();
                    setAuthed((x) => x + 1);
                  }}
                  >Sign out</a
                >`
              : null
          } <a href="#/">Portal</a>
        </nav>
      </header>
      <main>${key ? html`<${page[2]} />` : html`<${Login} onDone=${() => setAuthed((x) => x + 1)} />`}</main>`;
  }
  const body =
    parts[0] === 'consent' && parts[1]
      ? html`<${ConsentPage} lang=${lang} purpose=${decodeURIComponent(parts[1])} />`
      : parts[0] === 'me'
        ? html`<${AccessPage} lang=${lang} />`
        : html`<${PortalHome} lang=${lang} />`;
  return html`<header>
      <a href="#/"><strong>Veil</strong></a>
      <nav>
        <a href="#/me">${t.whatHeld}</a
        ><button
          class="secondary"
          onClick=${() => setLang(lang === 'en' ? 'fr' : 'en')}
          lang=${lang === 'en' ? 'fr' : 'en'}
        >
          ${t.language}</button
        ><a href="#/console">${t.console}</a>
      </nav>
    </header>
    <main>${body}</main>`;
}

render(html`<${App} />`, document.getElementById('app')!);

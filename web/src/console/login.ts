import { useState } from 'preact/hooks';
import { api, html, value } from '../lib.js';
import { ErrorText, Field } from '../ui.js';
import { setKey, useC } from './shared.js';

export function Login({ onDone }: { onDone: () => void }) {
  const c = useC();
  const [key, setValue] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!key.trim()) return setError(c.login.needKey);
    try {
      await api('GET', '/v1/stats', undefined, key.trim());
      setKey(key.trim());
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`<div class="card" style="max-width:30rem">
    <h1>${c.login.title}</h1>
    <p class="lede">${c.login.intro}</p>
    <form onSubmit=${submit} novalidate>
      <${Field} id="apikey" label=${c.login.key} hint=${c.login.keyHint}>
        <input
          id="apikey"
          type="password"
          autocomplete="off"
          aria-describedby="apikey-hint"
          value=${key}
          onInput=${value(setValue)}
        />
      <//>
      <button type="submit">${c.login.signIn}</button>
    </form>
    <${ErrorText} error=${error} />
  </div>`;
}

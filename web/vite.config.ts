import { defineConfig } from 'vite';

// The portal and console are served by `veil serve` from web/dist; nothing loads from a CDN.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  build: { outDir: 'dist', emptyOutDir: true, assetsInlineLimit: 0 },
  logLevel: 'warn',
});

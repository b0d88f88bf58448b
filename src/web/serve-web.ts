import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where `npm run build:web` (run by `npm ci` through `prepare`) puts the portal and console. */
export const WEB_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'dist');

/** Serves the portal and the console (one hash-routed page) from web/dist; all assets are local. */
export async function registerWeb(app: FastifyInstance): Promise<void> {
  if (!existsSync(join(WEB_DIST, 'index.html'))) {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Veil</title></head><body><h1>Veil</h1><p>The web UI is not built: run <code>npm run build:web</code>. The API is under <code>/v1</code>; docs at <a href="/docs">/docs</a>.</p></body></html>`,
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: WEB_DIST,
    prefix: '/',
    index: ['index.html'],
    wildcard: false,
    decorateReply: false,
  });
}

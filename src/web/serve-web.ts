import type { FastifyInstance } from 'fastify';

/** Placeholder until the web UI lands: the root explains where things are. */
export async function registerWeb(app: FastifyInstance): Promise<void> {
  app.get('/', async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Veil</title></head><body><h1>Veil</h1><p>The API is under <code>/v1</code>; its interactive documentation is at <a href="/docs">/docs</a> and the OpenAPI document at <a href="/openapi.json">/openapi.json</a>.</p></body></html>`;
  });
}

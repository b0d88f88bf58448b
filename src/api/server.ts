import { availableParallelism, hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { tryLease } from '../ops/job-lease.js';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config.js';
import { openVeil, type Veil } from '../app/veil.js';
import { EnginePool } from '../face/engine.pool.js';
import { buildApp } from './app.js';

export interface Served {
  readonly app: FastifyInstance;
  readonly veil: Veil;
  readonly pool: EnginePool;
  readonly url: string;
  /** Shown once on the very first start. */
  readonly adminToken: string | null;
  close(): Promise<void>;
}

/**
 * `veil serve`: the API (and the web UI when built) on the embedded default. Owns the listener,
 * the worker pool and the background jobs; shuts down by draining requests, then closing the store.
 */
export async function serve(
  env: NodeJS.ProcessEnv = process.env,
  log: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): Promise<Served> {
  const config = loadConfig(env);
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const pool = await EnginePool.create({
    size: Number(env['VEIL_ENGINE_WORKERS'] ?? availableParallelism()),
    maxQueue: Number(env['VEIL_ENGINE_QUEUE'] ?? 32),
    timeoutMs: Number(env['VEIL_ENGINE_TIMEOUT_MS'] ?? 20_000),
  });
  const veil = await openVeil({
    dataDir: config.dataDir,
    env,
    engine: pool,
    audit: config.audit,
    oversight: config.oversight as never,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
  });
  for (const n of veil.notices) log(`veil: ${n.level === 'warn' ? 'WARNING: ' : ''}${n.message}`);
  let adminToken: string | null = null;
  if ((await veil.apiKeys.count()) === 0) {
    adminToken = (
      await veil.apiKeys.create(
        { name: 'first admin', role: 'admin', purposes: ['*'] },
        { kind: 'system', id: 'first-start' },
      )
    ).token;
  }
  const web = await import('../web/serve-web.js').catch(() => null);
  const app = await buildApp({
    veil,
    engine: pool,
    trustProxy: trustProxyFrom(env['VEIL_TRUST_PROXY']),
    logger: env['VEIL_LOG'] !== 'off',
    ready: async () => pool.size > 0,
    ...(web ? { extra: web.registerWeb } : {}),
  });
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const url = `http://${config.host}:${typeof addr === 'object' && addr ? addr.port : config.port}`;
  const timers = [
    setInterval(
      () => void veil.store.transaction((tx) => veil.audit.maybeCheckpoint(tx)).catch(() => undefined),
      config.audit.checkpointSeconds * 1000,
    ),
    // Hourly jobs (retention, stale requests, idempotency records): with several API processes on one
    // database, the one holding the lease runs them; `veil retention run` does the same from cron.
    setInterval(() => void hourly(veil, holder, log), 3_600_000),
  ];
  timers.forEach((t) => t.unref());
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      timers.forEach(clearInterval);
      await app.close();
      await pool.close();
      await veil.store.transaction((tx) => veil.audit.signHead(tx)).catch(() => undefined);
      await veil.close();
    })());
  return { app, veil, pool, url, adminToken, close };
}

const IDEMPOTENCY_KEEP_MS = 24 * 3_600_000;

async function hourly(veil: Veil, holder: string, log: (line: string) => void): Promise<void> {
  try {
    const now = veil.clock.now();
    // Longer than the interval, so the holder keeps it from hour to hour and the others stay out;
    // if the holder dies, another process takes over within 65 minutes.
    if (!(await tryLease(veil.store.db, 'hourly', holder, now, 65 * 60_000))) return;
    await veil.retention
      .run({ dryRun: false })
      .catch((e) => log(`veil: retention run failed: ${(e as Error).message}`));
    await veil.rights.expireStale();
    // A replay is only promised for a day; after that the stored responses are just data kept.
    await veil.store.db
      .deleteFrom('idempotency')
      .where('created_at', '<', new Date(now.getTime() - IDEMPOTENCY_KEEP_MS).toISOString())
      .execute();
  } catch (e) {
    log(`veil: hourly jobs failed: ${(e as Error).message}`);
  }
}

/** VEIL_TRUST_PROXY: unset (direct clients), "true" (any proxy), or comma-separated proxy addresses/CIDRs. */
export function trustProxyFrom(v: string | undefined): boolean | string {
  if (!v || v === 'false') return false;
  return v === 'true' ? true : v;
}

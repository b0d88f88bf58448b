import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { loadSettings, type Settings } from '../config/settings.js';
import { openVeil, type Veil } from './veil.js';
import { EnginePool } from '../face/engine.pool.js';
import { activeEmbedder, SHIPPED_EMBEDDER } from '../face/model-declaration.js';
import { buildApp } from '../api/app.js';
import { startLog, type ServerLog } from './server-log.js';

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
  log: ServerLog = startLog({ json: true, write: (t) => process.stderr.write(t) }),
): Promise<Served> {
  const settings = loadSettings(env);
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const pool = await EnginePool.create({
    size: settings.engine.workers,
    maxQueue: settings.engine.queue,
    timeoutMs: settings.engine.timeoutMs,
    engine: {
      warmUp: settings.engine.warmUp,
      flushTinyWeights: settings.engine.flushTinyWeights,
      ...(settings.engine.embedder === SHIPPED_EMBEDDER.id
        ? {}
        : { embedder: activeEmbedder(settings.engine.embedders, settings.engine.embedder) }),
    },
  });
  const veil = await openVeil({
    dataDir: settings.dataDir,
    settings,
    engine: pool,
    sqliteCheckpoint: settings.sqliteCheckpoint,
    log,
  });
  for (const n of veil.notices) {
    if (n.level === 'warn') log.warn(n.message);
    else log.info(n.message);
  }
  // Where mail to people goes (verification codes, notices): said once, by the process that sends it.
  log.info(
    settings.mail.smtpUrl
      ? 'mail to people goes through the SMTP server in VEIL_SMTP_URL'
      : `mail to people is written to ${settings.dataDir}/outbox/ (set VEIL_SMTP_URL to send it)`,
  );
  const adminToken = await veil.apiKeys.firstAdmin();
  const web = await import('../web/serve-web.js').catch(() => null);
  const app = await buildApp({
    services: veil.services,
    trustProxy: trustProxyOf(settings),
    logger: settings.log !== 'off' && log.json,
    limits: limitsOf(settings),
    ready: async () => pool.size > 0,
    serverTiming: settings.serverTiming,
    ...(web ? { extra: web.registerWeb } : {}),
  });
  if (settings.log !== 'off' && !log.json) log.attach(app);
  await app.listen({ host: settings.host, port: settings.port });
  const addr = app.server.address();
  const url = `http://${settings.host}:${typeof addr === 'object' && addr ? addr.port : settings.port}`;
  const ops = veil.services.ops;
  veil.services.rights.drp.listeningAt(url);
  // Rights requests a crash interrupted resume now, not an hour from now.
  void veil.services.rights.queue
    .resumeInterrupted()
    .catch((e) => log.warn(`resuming interrupted requests failed: ${(e as Error).message}`));
  // With several API processes on one database, the one holding the lease runs these.
  const hourly = () =>
    void ops
      .hourly(holder, (l) => log.info(l.replace(/^veil: /, '')))
      .catch((e) => log.warn(`hourly jobs failed: ${(e as Error).message}`));
  const timers = [
    setInterval(() => void ops.checkpoint().catch(() => undefined), settings.audit.checkpointSeconds * 1000),
    // A minute after start too: a server restarted more often than hourly would otherwise never run them.
    setTimeout(hourly, 60_000),
    setInterval(hourly, 3_600_000),
    setInterval(
      () => void ops.expireConsents(holder).catch((e) => log.warn(`consent expiry failed: ${(e as Error).message}`)),
      60_000,
    ),
    // Authorized agents' requests carried out and their status callbacks sent, by the outbox's lease holder.
    setInterval(
      () =>
        void veil.services.rights.outbox
          .run(holder, (l) => log.warn(l.replace(/^veil: /, '')))
          .catch((e) => log.warn(`agent callbacks failed: ${(e as Error).message}`)),
      settings.drp.businessId ? 1_000 : 3_600_000,
    ),
  ];
  timers.forEach((t) => t.unref());
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      timers.forEach(clearInterval);
      await app.close();
      // A re-embedding run stops between templates while the engine is still there (a later start carries on).
      await veil.services.models.stop();
      // Bounded: engine jobs are answered by their deadline during the drain, and pool.close() stops waiting
      // for a worker stuck in native code after its closeTimeoutMs (5 s).
      await pool.close();
      if (pool.unstopped) log.warn(`${pool.unstopped} face engine worker(s) still busy in native code at shutdown`);
      await ops.signHead().catch(() => undefined);
      await veil.close();
    })());
  return { app, veil, pool, url, adminToken, close };
}

/** VEIL_TRUST_PROXY: unset (direct clients), true (any proxy), or proxy addresses/CIDRs. */
export function trustProxyOf(s: Pick<Settings, 'trustProxy'>): boolean | string[] {
  return typeof s.trustProxy === 'boolean' ? s.trustProxy : [...s.trustProxy];
}

export function limitsOf(s: Pick<Settings, 'limits'>) {
  return {
    bodyBytes: s.limits.bodyBytes,
    publicPhotoBytes: s.limits.publicPhotoBytes,
    publicJsonBytes: s.limits.publicJsonBytes,
    publicPerIpPerMinute: s.limits.publicPerIpPerMinute,
  };
}

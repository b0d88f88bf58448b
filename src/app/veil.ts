import { join } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { loadSettings, sqlitePath, type Settings } from '../config/settings.js';
import { openStore, type SqliteCheckpoint, type Store } from '../store/store.js';
import { AuditLog, type AuditLogOptions } from '../audit/audit.log.js';
import { loadOrCreateSigningKey } from '../audit/signing-key.js';
import { AuditService } from '../audit/audit.service.js';
import { AccessPolicy } from '../auth/policy.js';
import { ApiKeyService } from '../auth/api-keys.js';
import { MasterKey } from '../privacy/keys.js';
import { keyNotices, openKeyRing } from '../privacy/keystore-upkeep.js';
import { ContactSecrets } from '../privacy/contact-secrets.js';
import { PurposeService } from '../privacy/purpose.service.js';
import { ConsentService } from '../privacy/consent.service.js';
import { TemplateVault } from '../gallery/template-vault.js';
import { GalleryService } from '../gallery/gallery.service.js';
import { SearchService } from '../gallery/search.service.js';
import { SubjectService } from '../gallery/subject.service.js';
import { IngestService } from '../gallery/ingest.service.js';
import { PortalService } from '../gallery/portal.service.js';
import { FaceFinder } from '../rights/face-finder.js';
import { SuppressionList } from '../gallery/suppression.js';
import { FaceDataLifecycle } from '../gallery/face-data.lifecycle.js';
import { followIndex, liveIndex, snapshotFailed, type IndexOptions } from '../gallery/index-startup.js';
import { ModelSwitch, type RunLog } from '../gallery/model-switch.service.js';
import { startLog } from './server-log.js';
import { LazyEngine } from '../face/lazy-engine.js';
import { activeModel } from '../face/model-calibration.js';
import type { FaceAnalyzer } from '../face/analyzer.js';
import { OutboxMailer, SmtpMailer, purgeOutbox, type Mailer } from '../rights/mailer.js';
import { DEFAULT_OVERSIGHT, type OversightSettings } from '../oversight/settings.js';
import { RetentionService } from '../oversight/retention.service.js';
import { OrderService } from '../oversight/orders.service.js';
import { BreachService } from '../oversight/breaches.service.js';
import { RecordsService } from '../oversight/records.service.js';
import { RateLimiter } from '../ops/rate-limit.service.js';
import { IdempotencyStore } from '../ops/idempotency.service.js';
import { OpsService } from '../ops/ops.service.js';
import { BackupService } from '../ops/backup.service.js';
import { KeyRotationService } from '../privacy/key-rotation.service.js';
import { openRights } from './rights.wiring.js';
import { SelfieVault } from '../rights/selfie-vault.js';
import { openCompreFace } from '../compreface/compreface.service.js';

export interface VeilOptions {
  readonly dataDir: string;
  readonly clock?: Clock;
  /** Settings come from here (variables and VEIL_CONFIG) unless `settings` is given. */
  readonly env?: NodeJS.ProcessEnv;
  readonly settings?: Settings;
  /** The face engine; an in-process engine loaded on first use when omitted (the server passes its worker pool). */
  readonly engine?: FaceAnalyzer;
  readonly audit?: AuditLogOptions;
  /** The controller's name, as printed on consent receipts. */
  readonly controller?: string;
  readonly store?: Store;
  /** postgres://... for the server engine; defaults to the settings' DATABASE_URL, else SQLite in dataDir. */
  readonly databaseUrl?: string;
  /** Controller, DPO, transfers, search-log retention: for records of processing and DPIAs. */
  readonly oversight?: Partial<OversightSettings>;
  /** Outgoing mail; SMTP from VEIL_SMTP_URL, else .eml files in <dataDir>/outbox. */
  readonly mailer?: Mailer;
  readonly index?: IndexOptions; // the live index and its sealed snapshot (tests shrink them)
  readonly sqliteCheckpoint?: SqliteCheckpoint; // SQLite's own ('commit', here) or the server's ('background')
  readonly log?: RunLog; // where background work's unexpected failures are told (the server's log; else stderr)
  readonly restoring?: boolean; // veil restore: its replay applies the journal's do-not-enroll lines (and reports them)
}

/** Startup notices the caller should show (never containing secrets). */
export interface StartupNotice {
  readonly level: 'info' | 'warn';
  readonly message: string;
}

/**
 * The composition root: every service wired once with exactly the dependencies it uses. The CLI,
 * the API server and the tests all build Veil here, so what the tests run is what production runs.
 * Callers outside the domain (routes, commands) get `services`; the rest is for tests and tools.
 */
export async function openVeil(opts: VeilOptions) {
  const settings = opts.settings ?? loadSettings({ ...(opts.env ?? process.env), VEIL_DATA_DIR: opts.dataDir });
  const { dataDir, clock = systemClock } = opts;
  const notices: StartupNotice[] = [];
  // The active embedder decides with its own calibration and tail, never another model's (model-calibration.ts).
  const { model, shipped, calibration } = activeModel(settings.engine);
  const [{ threshold, tail }, dims] = [calibration, model.outputDimensions];
  const store =
    opts.store ??
    (await openStore({
      databaseUrl: opts.databaseUrl ?? settings.databaseUrl,
      sqlitePath: opts.databaseUrl ? join(dataDir, 'veil.db') : sqlitePath(settings),
      migrations: settings.autoMigrate ? 'apply' : 'require',
      sqliteCheckpoint: opts.sqliteCheckpoint,
    }));
  const { key: signingKey, created } = loadOrCreateSigningKey(dataDir, settings.auditSigningKey);
  if (created)
    notices.push({
      level: 'info',
      message: `Generated the audit signing key ${signingKey.keyId}; publish its public key (veil audit pubkey).`,
    });
  const auditLog = new AuditLog(
    { clock, key: signingKey, serialize: (tx) => store.serializeAudit(tx as never) },
    opts.audit ?? settings.audit,
  );
  await auditLog.init(store.db);
  const { master, generated } = MasterKey.load(dataDir, settings.masterKey);
  if (generated) {
    notices.push({
      level: 'warn',
      message: `Generated a master key in ${join(dataDir, 'master.key')}. PRODUCTION NEEDS ITS OWN: set VEIL_MASTER_KEY from a secret store and keep it apart from the database and its backups.`,
    });
  }
  const controller = opts.controller ?? settings.controller;
  const oversight: OversightSettings = {
    ...DEFAULT_OVERSIGHT,
    ...settings.oversight,
    controller: { ...settings.oversight.controller, name: controller },
    ...opts.oversight,
  };
  const engine = opts.engine ?? new LazyEngine(shipped ? {} : { embedder: model });
  const mailer =
    opts.mailer ??
    (settings.mail.smtpUrl
      ? new SmtpMailer(settings.mail.smtpUrl, settings.mail.from)
      : new OutboxMailer(join(dataDir, 'outbox'), settings.mail.from, () => clock.now()));
  const policy = new AccessPolicy({ store });
  const { keyring, report: keys } = await openKeyRing({ store, master, dataDir });
  const suppression = new SuppressionList({ store, audit: auditLog, keyring }, threshold, engine.modelId);
  notices.push(...keyNotices(keys), ...(await suppression.settle(keys.spared, !opts.restoring)));
  const vault = new TemplateVault({ keyring, dataDir, model: engine.modelId });
  const { index, snapshots } = liveIndex({ store, keyring, vault, dataDir, dims, settings }, opts.index);
  const templatesIn = (p: Parameters<typeof index.size>[0]) => index.size(p);
  const secrets = new ContactSecrets(master);
  const limiter = new RateLimiter({ store, clock, key: master.derive('rate-limits') });
  const base = { store, audit: auditLog, clock, policy };
  const selfies = new SelfieVault({ store, keyring });
  const lifecycle = new FaceDataLifecycle({
    ...base,
    index,
    vault,
    keyring,
    snapshots,
    selfies,
    signingKey,
    controller,
    afterErase: (_s, contact) => purgeOutbox(mailer, contact),
  });
  const purposes = new PurposeService({ ...base, templatesIn, journal: keyring.journal });
  const gallery = new GalleryService({ ...base, engine, keyring, vault, index, suppression, threshold });
  const search = new SearchService({ ...base, engine, vault, index, threshold, tail });
  const consents = new ConsentService({ ...base, keyring, vault, signingKey, controller, lifecycle });
  const media = new IngestService({ ...base, engine, index, suppression, master, keyring, vault, dataDir, threshold });
  const subjects = new SubjectService({ ...base, lifecycle, keyring, vault, ingest: media });
  const log = opts.log ?? startLog({ json: false, write: (t) => process.stderr.write(t) });
  const models = new ModelSwitch({ ...base, engine, keyring, vault, lifecycle, calibration, log });
  // Who a face already is, in every purpose and state, at the strict threshold: for the portal and rights intake.
  const faces = new FaceFinder({ store, index, keyring, vault, threshold: calibration.strictThreshold });
  const portal = new PortalService({
    ...base,
    faces,
    master,
    secrets,
    mailer,
    limiter,
    consents,
    gallery,
    controller: () => controller,
    perContactPerHour: settings.limits.publicPerContactPerHour,
  });
  const rights = openRights({
    calibration,
    faces,
    selfies,
    ...base,
    engine,
    master,
    keyring,
    vault,
    index,
    suppression,
    lifecycle,
    consents,
    media,
    mailer,
    secrets,
    limiter,
    signingKey,
    controller,
    dataDir,
    drp: settings.drp,
    limits: {
      resendsPerRequest: settings.limits.codeResendsPerRequest,
      perContactPerHour: settings.limits.publicPerContactPerHour,
    },
  });
  const apiKeys = new ApiKeyService(base);
  const compreface = openCompreFace({ ...base, apiKeys, gallery, search, subjects, lifecycle, engine });
  const audit = new AuditService({ ...base, dataDir, keyFromSettings: Boolean(settings.auditSigningKey) });
  const retention = new RetentionService({ ...base, lifecycle, dataDir, settings: oversight });
  const orders = new OrderService({ ...base, purposes, signingKey, settings: oversight });
  const breaches = new BreachService(base);
  const records = new RecordsService({
    store,
    clock,
    policy,
    settings: oversight,
    templatesIn,
    rightsCounts: () => rights.queue.counts(),
    rightsClosed: () => rights.queue.closed(),
    orders,
    breaches,
  });
  const idempotency = new IdempotencyStore({ store, clock });
  const ops = new OpsService({
    store,
    clock,
    audit: auditLog,
    policy,
    templatesIn,
    rights: rights.queue,
    intake: rights.intake,
    retention,
    orders,
    breaches,
    idempotency,
    limiter,
    mailer,
    metricsPublic: settings.metrics.public,
  });
  const backup = new BackupService({ ...base, purposes, dataDir, keyring, lifecycle, suppression, master, vault });
  const keyRotation = new KeyRotationService({
    ...base,
    keyring,
    vault,
    master,
    dataDir,
    masterFromEnv: Boolean(settings.masterKey),
  });
  await lifecycle.rebuild();
  const snapshotting = lifecycle.refreshSnapshot().catch(snapshotFailed);
  // Other processes' changes reach this index; the snapshot segments a change destroys are written again from it.
  const { follower, rewrites } = await followIndex({ store, vault, index, snapshots, since: lifecycle.started?.since });
  const services = {
    purposes,
    consents,
    gallery,
    search,
    subjects,
    models,
    media,
    portal,
    rights,
    apiKeys,
    compreface,
    audit,
    retention,
    orders,
    breaches,
    records,
    ops,
    idempotency,
    limiter,
    backup,
    keyRotation,
  };
  return {
    ...services,
    services,
    settings,
    calibration,
    oversight,
    dataDir,
    clock,
    store,
    auditLog,
    signingKey,
    master,
    keyring,
    vault,
    index,
    suppression,
    engine,
    lifecycle,
    mailer,
    follower,
    rewrites,
    notices,
    async close(): Promise<void> {
      await Promise.all([follower.stop(), snapshotting, rewrites?.stop(), models.stop()]);
      await store.close();
    },
  };
}

export type Veil = Awaited<ReturnType<typeof openVeil>>;
/** What routes and commands may call: services, each checking its caller, never the store or keys. */
export type Services = Veil['services'];

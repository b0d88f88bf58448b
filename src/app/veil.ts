import { join } from 'node:path';
import { systemClock, type Clock } from '../clock.js';
import { migrationModeFrom, openStore, type Store } from '../store/store.js';
import { IndexFollower } from '../vector/index-feed.js';
import { AuditLog, DEFAULT_AUDIT_OPTIONS, type AuditLogOptions } from '../audit/audit.log.js';
import { loadOrCreateSigningKey, type AuditSigningKey } from '../audit/signing-key.js';
import { MasterKey } from '../privacy/keys.js';
import { KeyRing } from '../privacy/keyring.js';
import { PurposeService } from '../privacy/purpose.service.js';
import { ConsentService } from '../privacy/consent.service.js';
import { GalleryIndex } from '../vector/gallery-index.js';
import { TemplateVault } from '../gallery/template-vault.js';
import { GalleryService } from '../gallery/gallery.service.js';
import { IngestService } from '../gallery/ingest.service.js';
import { SuppressionList } from '../gallery/suppression.js';
import { FaceEngine } from '../face/engine.js';
import type { FaceAnalyzer } from '../face/analyzer.js';
import { DEFAULT_CALIBRATION } from '../face/calibration.default.js';
import { Eraser } from '../rights/erasure.js';
import { RightsService } from '../rights/rights.service.js';
import { OutboxMailer, SmtpMailer, type Mailer } from '../rights/mailer.js';
import { ApiKeyService } from '../auth/api-keys.js';
import { DEFAULT_OVERSIGHT, type OversightSettings } from '../oversight/settings.js';
import { RetentionService } from '../oversight/retention.service.js';
import { OrderService } from '../oversight/orders.service.js';
import { BreachService } from '../oversight/breaches.service.js';
import { buildRopa } from '../oversight/ropa.js';
import { dpiaDraft } from '../oversight/dpia.js';

export interface VeilOptions {
  readonly dataDir: string;
  readonly clock?: Clock;
  readonly env?: NodeJS.ProcessEnv;
  /** The face engine; an in-process FaceEngine when omitted (the server passes its worker pool). */
  readonly engine?: FaceAnalyzer;
  readonly audit?: AuditLogOptions;
  /** The controller's name, as printed on consent receipts. */
  readonly controller?: string;
  readonly store?: Store;
  /** postgres://... for the server engine; defaults to env DATABASE_URL, else SQLite in dataDir. */
  readonly databaseUrl?: string;
  /** Controller, DPO, transfers, search-log retention: for records of processing and DPIAs. */
  readonly oversight?: Partial<OversightSettings>;
  /** Outgoing mail; SMTP from VEIL_SMTP_URL, else .eml files in <dataDir>/outbox. */
  readonly mailer?: Mailer;
}

/** Startup notices the caller should show (never containing secrets). */
export interface StartupNotice {
  readonly level: 'info' | 'warn';
  readonly message: string;
}

/**
 * The composition root: every service wired once with exactly the dependencies it uses. The CLI,
 * the API server and the tests all build Veil here, so what the tests run is what production runs.
 */
export async function openVeil(opts: VeilOptions) {
  const env = opts.env ?? process.env;
  const clock = opts.clock ?? systemClock;
  const notices: StartupNotice[] = [];
  const store =
    opts.store ??
    (await openStore({
      databaseUrl: opts.databaseUrl ?? env['DATABASE_URL'],
      sqlitePath: join(opts.dataDir, 'veil.db'),
      migrations: migrationModeFrom(env),
    }));
  const { key: signingKey, created } = loadOrCreateSigningKey(opts.dataDir, env);
  if (created)
    notices.push({
      level: 'info',
      message: `Generated the audit signing key ${signingKey.keyId}; publish its public key (veil audit pubkey).`,
    });
  const audit = new AuditLog(
    { clock, key: signingKey, serialize: (tx) => store.serializeAudit(tx as never) },
    opts.audit ?? DEFAULT_AUDIT_OPTIONS,
  );
  await audit.init(store.db);
  const { master, generated } = MasterKey.load(opts.dataDir, env);
  if (generated) {
    notices.push({
      level: 'warn',
      message: `Generated a master key in ${join(opts.dataDir, 'master.key')}. PRODUCTION NEEDS ITS OWN: set VEIL_MASTER_KEY from a secret store and keep it apart from the database and its backups.`,
    });
  }
  const engine = opts.engine ?? (await FaceEngine.create());
  const keyring = new KeyRing(master);
  const vault = new TemplateVault({ keyring, dataDir: opts.dataDir });
  const index = new GalleryIndex(512);
  const threshold = DEFAULT_CALIBRATION.threshold;
  const suppression = new SuppressionList(master, threshold);
  const purposes = new PurposeService({ store, audit, clock });
  const gallery = new GalleryService({
    store,
    audit,
    clock,
    engine,
    purposes,
    keyring,
    vault,
    index,
    suppression,
    threshold,
  });
  const consents = new ConsentService({
    store,
    audit,
    clock,
    purposes,
    keyring,
    signingKey,
    controller: opts.controller ?? env['VEIL_CONTROLLER'] ?? 'Veil operator',
    dependents: gallery,
  });
  const ingest = new IngestService({
    store,
    audit,
    clock,
    engine,
    purposes,
    index,
    suppression,
    master,
    dataDir: opts.dataDir,
    threshold,
  });
  const controller = opts.controller ?? env['VEIL_CONTROLLER'] ?? 'Veil operator';
  const from = env['VEIL_MAIL_FROM'] ?? 'Veil <privacy@localhost>';
  const mailer =
    opts.mailer ??
    (env['VEIL_SMTP_URL']
      ? new SmtpMailer(env['VEIL_SMTP_URL'], from)
      : new OutboxMailer(join(opts.dataDir, 'outbox'), from));
  if (!opts.mailer && !env['VEIL_SMTP_URL'])
    notices.push({
      level: 'info',
      message: `No VEIL_SMTP_URL: emails to people (verification codes) are written to ${join(opts.dataDir, 'outbox')}.`,
    });
  const eraser = new Eraser({ store, audit, clock, index, vault, dataDir: opts.dataDir, signingKey, controller });
  const rights = new RightsService({
    store,
    audit,
    clock,
    engine,
    master,
    keyring,
    index,
    vault,
    gallery,
    consents,
    suppression,
    eraser,
    mailer,
    dataDir: opts.dataDir,
    exportDeps: { store, keyring, vault, purposes, ingest, signingKey, controller },
  });
  const apiKeys = new ApiKeyService({ store, audit, clock });
  const settings: OversightSettings = {
    ...DEFAULT_OVERSIGHT,
    controller: { ...DEFAULT_OVERSIGHT.controller, name: controller },
    ...opts.oversight,
  };
  const retention = new RetentionService({
    store,
    audit,
    clock,
    purposes,
    gallery,
    eraser,
    dataDir: opts.dataDir,
    settings,
  });
  const orders = new OrderService({ store, audit, clock, purposes, signingKey, settings });
  const breaches = new BreachService({ store, audit, clock });
  await gallery.rebuildIndex();
  // Changes committed by other processes (another API process, a CLI command) reach this index.
  const follower = new IndexFollower({ store, vault, index, pollMs: store.engine === 'postgres' ? 5_000 : 250 });
  await follower.start();
  return {
    follower,
    apiKeys,
    settings,
    retention,
    orders,
    breaches,
    ropa: () => buildRopa({ store, purposes }, settings, clock.now()),
    async dpia(purposeRef: string): Promise<string> {
      const p = await purposes.get(purposeRef);
      const n = async (q: Promise<{ n: number } | undefined>) => Number((await q)?.n ?? 0);
      const live = {
        subjects: await n(
          store.db
            .selectFrom('enrollments')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('purpose_id', '=', p.id)
            .executeTakeFirst(),
        ),
        templates: await n(
          store.db
            .selectFrom('templates')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('purpose_id', '=', p.id)
            .executeTakeFirst(),
        ),
        searches: await n(
          store.db
            .selectFrom('searches')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('purpose_id', '=', p.id)
            .executeTakeFirst(),
        ),
      };
      return dpiaDraft(p, settings, live, clock.now());
    },
    dataDir: opts.dataDir,
    clock,
    store,
    audit,
    signingKey: signingKey as AuditSigningKey,
    master,
    keyring,
    vault,
    index,
    suppression,
    engine,
    purposes,
    consents,
    gallery,
    ingest,
    eraser,
    rights,
    mailer,
    notices,
    async close(): Promise<void> {
      await follower.stop();
      await store.close();
    },
  };
}

export type Veil = Awaited<ReturnType<typeof openVeil>>;

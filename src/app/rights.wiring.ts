import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { AuditSigningKey } from '../audit/signing-key.js';
import type { AccessPolicy } from '../auth/policy.js';
import type { FaceAnalyzer } from '../face/analyzer.js';
import type { MasterKey } from '../privacy/keys.js';
import type { KeyRing } from '../privacy/keyring.js';
import type { ContactSecrets } from '../privacy/contact-secrets.js';
import type { ConsentService } from '../privacy/consent.service.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import type { SuppressionList } from '../gallery/suppression.js';
import type { IngestService } from '../gallery/ingest.service.js';
import type { FaceDataLifecycle } from '../gallery/face-data.lifecycle.js';
import type { RateLimiter } from '../ops/rate-limit.service.js';
import type { Mailer } from '../rights/mailer.js';
import { Requester } from '../rights/requester.js';
import type { SelfieVault } from '../rights/selfie-vault.js';
import { ExportFiles } from '../rights/export-files.js';
import type { FaceFinder } from '../rights/face-finder.js';
import { IntakeService } from '../rights/intake.service.js';
import { Fulfilment } from '../rights/fulfilment.js';
import { RightsQueue } from '../rights/queue.service.js';
import { SelfService } from '../rights/self-service.service.js';
import { AccessHandler } from '../rights/handlers/access.handler.js';
import { ErasureHandler } from '../rights/handlers/erasure.handler.js';
import { RestrictionHandler } from '../rights/handlers/restriction.handler.js';
import { WithdrawalHandler } from '../rights/handlers/withdrawal.handler.js';
import { RectificationHandler } from '../rights/handlers/rectification.handler.js';
import { ContestHandler } from '../rights/handlers/contest.handler.js';
import { AgentRegistry } from '../drp/agent-registry.service.js';
import { DrpService } from '../drp/drp.service.js';
import { CallbackOutbox } from '../drp/callback.service.js';
import type { Settings } from '../config/settings.js';
import type { ModelCalibration } from '../face/model-calibration.js';

/**
 * The rights module wired: intake and verification, one handler per right, the DPO's queue,
 * self-service, and authorized agents (the Data Rights Protocol) on the same intake and clock.
 */
export function openRights(d: {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  policy: AccessPolicy;
  engine: FaceAnalyzer;
  master: MasterKey;
  keyring: KeyRing;
  vault: TemplateVault;
  index: GalleryIndex;
  suppression: SuppressionList;
  lifecycle: FaceDataLifecycle;
  consents: ConsentService;
  media: IngestService;
  mailer: Mailer;
  secrets: ContactSecrets;
  limiter: RateLimiter;
  signingKey: AuditSigningKey;
  controller: string;
  dataDir: string;
  limits: { resendsPerRequest: number; perContactPerHour: number };
  selfies: SelfieVault;
  faces: FaceFinder;
  drp: Settings['drp'];
  /** The active model's numbers, told to people in access exports. */
  calibration: ModelCalibration;
}) {
  const files = new ExportFiles({ store: d.store, key: d.master.derive('exports'), dataDir: d.dataDir });
  const requester = new Requester(d);
  const exportDeps = {
    store: d.store,
    keyring: d.keyring,
    vault: d.vault,
    ingest: d.media,
    signingKey: d.signingKey,
    controller: d.controller,
    matching: d.calibration,
  };
  const fulfilment = new Fulfilment({ ...d, requester }, [
    new AccessHandler({ exportDeps, files }),
    new ErasureHandler({ ...d, modelId: d.engine.modelId }),
    new RestrictionHandler(d),
    new WithdrawalHandler(d),
    new RectificationHandler(d),
    new ContestHandler(d),
  ]);
  const intake = new IntakeService(d);
  const agents = new AgentRegistry({ ...d, businessId: d.drp.businessId, loopbackCallbacks: d.drp.loopbackCallbacks });
  const drp = new DrpService({ ...d, agents, intake, fulfilment, files, settings: d.drp });
  return {
    intake,
    queue: new RightsQueue({ ...d, requester, fulfilment, files }),
    self: new SelfService({ ...d, fulfilment, files }),
    agents,
    drp,
    outbox: new CallbackOutbox({ ...d, drp, agents, http: { loopback: d.drp.loopbackCallbacks, timeoutMs: 10_000 } }),
  };
}

import type { Actor } from '../auth/actor.js';
import type { PurposeId } from '../ids.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';
import { isUniqueViolation } from '../store/errors.js';
import { purposeRepository as repo } from './purpose.repository.js';
import { z } from 'zod';
import { LAWFUL_BASES, ART9_CONDITIONS, ConfirmationsSchema, validatePurpose, type Purpose } from './purpose.js';

const ConfirmationsChange = z
  .object({ confirmations: ConfirmationsSchema, reason: z.string().trim().min(3).max(2000) })
  .strict();
import type { CoreDeps } from '../service-deps.js';
import { FPIR_LIMITS } from '../gallery/open-set.js';
import { mediaRepository } from '../gallery/media.repository.js';
import type { RestoreJournal } from './restore-journal.js';
import { reflectedIn } from './journal-reflected.js';

/** The settings an admin changes after the purpose is declared; each is a journal line (restore-journal.ts). */
type Setting = 'fpir' | 'confirmations';

/** A purpose as its readers see it: with how many templates may match under it now. */
export type PurposeView = Purpose & { readonly templates: number };

export class PurposeService {
  constructor(
    private readonly deps: CoreDeps & {
      /** Matchable templates per purpose, from the live index. */
      templatesIn: (purposeId: PurposeId) => number;
      /** Where a suspension (or resumption), or a setting changed, is kept so a restored backup does not undo it. */
      journal: RestoreJournal;
    },
  ) {}

  async create(actor: Actor, input: unknown): Promise<Purpose> {
    this.deps.policy.require(actor, 'purposes.declare');
    const p = validatePurpose(input);
    const purpose: Purpose = {
      ...p,
      id: newId.purpose(),
      status: 'active',
      createdAt: this.deps.clock.now().toISOString(),
    };
    try {
      await this.deps.store.transaction(async (tx) => {
        await repo.insert(tx, purpose);
        await this.deps.audit.append(tx, {
          actor,
          action: 'purpose.created',
          purposeId: purpose.id,
          detail: {
            key: purpose.key,
            lawfulBasis: purpose.lawfulBasis,
            art9Condition: purpose.art9Condition,
            retention: purpose.retention,
            confirmations: purpose.confirmations,
          },
        });
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new VeilError('CONFLICT', `A purpose with key '${purpose.key}' already exists.`);
      throw e;
    }
    return purpose;
  }

  /** The purposes this actor is bound to, with their gallery sizes. */
  async list(actor: Actor): Promise<PurposeView[]> {
    return (await this.deps.policy.purposes(actor, 'purposes.read')).map((p) => this.view(p));
  }

  async get(actor: Actor, ref: string): Promise<PurposeView> {
    return this.view(await this.deps.policy.purpose(actor, 'purposes.read', ref));
  }

  async setSuspended(actor: Actor, ref: string, suspended: boolean, reason: string): Promise<Purpose> {
    const p = await this.deps.policy.purpose(actor, 'purposes.suspend', ref);
    const status = suspended ? 'suspended' : 'active';
    const at = this.deps.clock.now().toISOString();
    await this.deps.journal.journaled(
      (note) =>
        this.deps.store.transaction(async (tx) => {
          await repo.setStatus(tx, p.id, status);
          await this.deps.audit.append(tx, {
            actor,
            action: suspended ? 'purpose.suspended' : 'purpose.resumed',
            purposeId: p.id,
            detail: { reason },
          });
          await note({ kind: 'purpose-status', at, purposeId: p.id, suspended });
        }),
      (line) => reflectedIn(this.deps.store.db, line),
    );
    return { ...p, status };
  }

  /**
   * The two-person rule (EU AI Act Art. 14(5)): how many different people must confirm each match.
   * An admin bound to the purpose sets it; searches already made keep the rule they were made under.
   */
  async setConfirmations(actor: Actor, ref: string, input: unknown): Promise<Purpose> {
    const p = await this.deps.policy.purpose(actor, 'purposes.configure', ref);
    const parsed = ConfirmationsChange.safeParse(input);
    if (!parsed.success)
      throw new VeilError(
        'INVALID_INPUT',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    const { confirmations, reason } = parsed.data;
    const sightings = confirmations > 0 ? await mediaRepository.sightingCount(this.deps.store.db, p.id) : 0;
    // Sightings are matches made without anyone confirming them: the rule cannot apply to them after
    // the fact, and they cannot be unmade one by one (retention or erasure removes them).
    if (sightings)
      throw new VeilError(
        'CONFLICT',
        `Purpose '${p.key}' holds ${sightings} sighting(s) from photo ingestion, matched without confirmation; the two-person rule can only be set on a purpose without them. Declare a new purpose with 'confirmations' for identification under oversight.`,
      );
    return this.change(actor, p, 'confirmations', confirmations, reason);
  }

  /**
   * The purpose's target FPIR (the chance a person not in the gallery is returned), within
   * FPIR_LIMITS: an admin bound to this purpose. Its identifications' threshold follows from it and
   * never falls below the model's calibrated one; a client may still only raise it per request.
   */
  async setFpir(actor: Actor, ref: string, fpir: number): Promise<PurposeView> {
    const p = await this.deps.policy.purpose(actor, 'purposes.configure', ref);
    if (typeof fpir !== 'number' || !(fpir >= FPIR_LIMITS.min && fpir <= FPIR_LIMITS.max))
      throw new VeilError('INVALID_INPUT', `fpir must be within ${FPIR_LIMITS.min} and ${FPIR_LIMITS.max}.`);
    return this.view(await this.change(actor, p, 'fpir', fpir));
  }

  /**
   * A setting as a restore's replay finds it in the journal: set again as it was decided, without the
   * checks of a new decision (a purpose the backup holds with sightings since removed by retention).
   */
  async replaySetting(actor: Actor, ref: string, setting: Setting, to: number, reason: string): Promise<Purpose> {
    const p = await this.deps.policy.purpose(actor, 'purposes.configure', ref);
    // A journal line is read from a file: its setting and value are checked as any input is.
    const valid =
      typeof to === 'number' &&
      (setting === 'fpir'
        ? to >= FPIR_LIMITS.min && to <= FPIR_LIMITS.max
        : setting === 'confirmations' && ConfirmationsSchema.safeParse(to).success);
    if (!valid)
      throw new VeilError('INVALID_INPUT', `The journal's ${setting} for purpose '${p.key}' is out of range.`);
    return this.change(actor, p, setting, to, reason);
  }

  /**
   * One setting of a purpose changed, with its audit entry and its journal line, in one transaction;
   * no change, no entry. Tightened, the line counts even if the commit is reported failed but happened.
   */
  private async change<K extends Setting>(
    actor: Actor,
    p: Purpose,
    setting: K,
    to: Purpose[K],
    reason?: string,
  ): Promise<Purpose> {
    if (to === p[setting]) return p;
    const at = this.deps.clock.now().toISOString();
    const { store, journal } = this.deps;
    // `from` is read under the row's lock: read before, a concurrent change could make a loosening
    // look like a tightening, whose journal line then counts without its commit (restore-journal.ts).
    const now = await journal.journaled(
      (note) =>
        store.transaction(async (tx) => {
          const cur = (await repo.locked(tx, store.engine, p.id)) ?? p;
          const from = cur[setting];
          if (from === to) return cur;
          if (setting === 'fpir') await repo.setFpir(tx, p.id, to);
          else await repo.setConfirmations(tx, p.id, to);
          const detail = { setting, from, to, ...(reason === undefined ? {} : { reason }) };
          await this.deps.audit.append(tx, { actor, action: 'purpose.updated', purposeId: p.id, detail });
          await note({ kind: 'purpose-setting', at, purposeId: p.id, setting, from, to });
          return cur;
        }),
      (line) => reflectedIn(store.db, line),
    );
    return { ...now, [setting]: to };
  }

  private view(p: Purpose): PurposeView {
    return { ...p, templates: this.deps.templatesIn(p.id) };
  }
}

/** The purpose in W3C DPV terms, for exports and records of processing. */
export function purposeDpv(p: Purpose) {
  return {
    '@type': 'dpv:Purpose',
    'dcterms:identifier': p.key,
    'dcterms:title': p.name,
    'dcterms:description': p.description,
    'dpv:hasLegalBasis': [LAWFUL_BASES[p.lawfulBasis], ART9_CONDITIONS[p.art9Condition]],
    'dpv:hasPersonalData': ['dpv-pd:FacialPrint', 'dpv-pd:Photograph'],
    'dpv:hasStorageCondition': { '@type': 'dpv:StorageDuration', 'rdf:value': p.retention },
    'dpv:hasRecipient': p.recipients,
    ...(p.legalReference ? { 'dpv:hasLegalMeasure': p.legalReference } : {}),
  };
}

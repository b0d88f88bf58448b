import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Actor } from '../audit/entry.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';
import { isUniqueViolation } from '../store/errors.js';
import { purposeRepository as repo } from './purpose.repository.js';
import { LAWFUL_BASES, ART9_CONDITIONS, validatePurpose, type Purpose } from './purpose.js';

export class PurposeService {
  constructor(private readonly deps: { store: Store; audit: AuditLog; clock: Clock }) {}

  async create(input: unknown, actor: Actor): Promise<Purpose> {
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
          },
        });
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new VeilError('CONFLICT', `A purpose with key '${purpose.key}' already exists.`);
      throw e;
    }
    return purpose;
  }

  async get(ref: string): Promise<Purpose> {
    const p = await repo.byIdOrKey(this.deps.store.db, ref);
    if (!p) throw new VeilError('UNKNOWN_PURPOSE', `No purpose '${ref}'.`);
    return p;
  }

  /** The purpose, refusing one that is suspended (a regulator's order or the controller's decision). */
  async active(ref: string): Promise<Purpose> {
    const p = await this.get(ref);
    if (p.status === 'suspended')
      throw new VeilError('PURPOSE_SUSPENDED', `Processing under purpose '${p.key}' is suspended.`);
    return p;
  }

  list(): Promise<Purpose[]> {
    return repo.list(this.deps.store.db);
  }

  async setSuspended(ref: string, suspended: boolean, actor: Actor, reason: string): Promise<Purpose> {
    const p = await this.get(ref);
    const status = suspended ? 'suspended' : 'active';
    await this.deps.store.transaction(async (tx) => {
      await repo.setStatus(tx, p.id, status);
      await this.deps.audit.append(tx, {
        actor,
        action: suspended ? 'purpose.suspended' : 'purpose.resumed',
        purposeId: p.id,
        detail: { reason },
      });
    });
    return { ...p, status };
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

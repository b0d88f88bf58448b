import type { Executor } from '../store/store.js';
import type { PurposesTable } from '../store/schema.js';
import type { PurposeId } from '../ids.js';
import { FPIR_LIMITS } from '../gallery/open-set.js';
import type { Art9Condition, LawfulBasis, Purpose, PurposeStatus } from './purpose.js';

function toPurpose(r: PurposesTable): Purpose {
  return {
    id: r.id as PurposeId,
    key: r.key,
    name: r.name,
    description: r.description,
    lawfulBasis: r.lawful_basis as LawfulBasis,
    art9Condition: r.art9_condition as Art9Condition,
    legalReference: r.legal_reference,
    retention: r.retention,
    recipients: JSON.parse(r.recipients) as string[],
    requiresCaseRef: Boolean(r.requires_case_ref),
    keepSourceImages: Boolean(r.keep_source_images),
    fpir: r.fpir ?? FPIR_LIMITS.default,
    confirmations: r.confirmations ?? 0,
    status: r.status as PurposeStatus,
    createdAt: r.created_at,
  };
}

export const purposeRepository = {
  async insert(ex: Executor, p: Purpose): Promise<void> {
    await ex
      .insertInto('purposes')
      .values({
        id: p.id,
        key: p.key,
        name: p.name,
        description: p.description,
        lawful_basis: p.lawfulBasis,
        art9_condition: p.art9Condition,
        legal_reference: p.legalReference,
        retention: p.retention,
        recipients: JSON.stringify(p.recipients),
        requires_case_ref: p.requiresCaseRef ? 1 : 0,
        keep_source_images: p.keepSourceImages ? 1 : 0,
        fpir: p.fpir,
        confirmations: p.confirmations || null,
        status: p.status,
        created_at: p.createdAt,
      })
      .execute();
  },

  async byIdOrKey(ex: Executor, ref: string): Promise<Purpose | undefined> {
    const r = await ex
      .selectFrom('purposes')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', ref), eb('key', '=', ref)]))
      .executeTakeFirst();
    return r && toPurpose(r);
  },

  /** The purpose as a change inside a transaction must read it: locked against another change until commit (PostgreSQL; SQLite's writer is alone). */
  async locked(ex: Executor, engine: 'sqlite' | 'postgres', id: PurposeId): Promise<Purpose | undefined> {
    const r = await ex
      .selectFrom('purposes')
      .selectAll()
      .where('id', '=', id)
      .$if(engine === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    return r && toPurpose(r);
  },

  async list(ex: Executor): Promise<Purpose[]> {
    return (await ex.selectFrom('purposes').selectAll().orderBy('created_at').orderBy('key').execute()).map(toPurpose);
  },

  async setConfirmations(ex: Executor, id: PurposeId, confirmations: number): Promise<void> {
    await ex
      .updateTable('purposes')
      .set({ confirmations: confirmations || null })
      .where('id', '=', id)
      .execute();
  },

  async setFpir(ex: Executor, id: PurposeId, fpir: number): Promise<void> {
    await ex.updateTable('purposes').set({ fpir }).where('id', '=', id).execute();
  },

  async setStatus(ex: Executor, id: PurposeId, status: PurposeStatus): Promise<void> {
    await ex.updateTable('purposes').set({ status }).where('id', '=', id).execute();
  },
};

import type { Actor, Role } from '../auth/actor.js';
import type { ApiKeyService, ApiKey } from '../auth/api-keys.js';
import { visibleText, type Permission } from '../auth/policy.js';
import { VeilError } from '../errors.js';
import { needsConsent, type Purpose } from '../privacy/purpose.js';
import type { CoreDeps } from '../service-deps.js';
import { aliasRepository as aliases, type CompreFaceKeyRow } from './alias.repository.js';

/** Roles a compatibility key may have: it enrolls and searches, so operator; admin for the delete-all calls. */
const COMPAT_ROLES: readonly Role[] = ['operator', 'admin'];

export interface CompreFaceKeyInput {
  readonly name?: string | undefined;
  readonly role: Role;
  readonly purpose: string;
  readonly sourceReference?: string | undefined;
  readonly justification?: string | undefined;
}

/** A CompreFace client reads every subject it is given as a match: it cannot wait for confirmations. */
export const unconfirmable = (p: Purpose) =>
  `Purpose '${p.key}' requires each match to be confirmed by ${p.confirmations} people (EU AI Act Art. 14(5)); a CompreFace client would take an unconfirmed match as a match.`;

/** What a call with a compatibility key runs under: its one purpose and its accountability. */
export interface CompreFaceContext {
  readonly key: CompreFaceKeyRow;
  readonly purpose: Purpose;
}

/**
 * Compatibility keys: ordinary Veil keys bound to exactly one purpose, with the source reference
 * recorded for enrollments under a non-consent basis and the justification recorded for searches.
 * Never for investigators, and never for a purpose that requires a case reference: a default
 * justification must not stand in for one.
 */
export class CompreFaceKeys {
  constructor(private readonly deps: CoreDeps & { apiKeys: Pick<ApiKeyService, 'create'> }) {}

  async create(actor: Actor, input: CompreFaceKeyInput): Promise<{ key: ApiKey; token: string }> {
    this.deps.policy.require(actor, 'keys.manage');
    if (!COMPAT_ROLES.includes(input.role))
      throw new VeilError(
        'INVALID_INPUT',
        `A CompreFace compatibility key is for the operator role (admin for the delete-all calls), not ${input.role}.`,
      );
    const purpose = await this.deps.policy.purpose(actor, 'keys.manage', input.purpose);
    if (purpose.requiresCaseRef)
      throw new VeilError(
        'CASE_REF_REQUIRED',
        `Searches under '${purpose.key}' need a case reference for each search; a compatibility key cannot give one.`,
      );
    if (purpose.confirmations > 0) throw new VeilError('INVALID_INPUT', unconfirmable(purpose));
    const sourceReference = visibleText('sourceReference', input.sourceReference);
    if (!needsConsent(purpose) && !sourceReference)
      throw new VeilError(
        'SOURCE_REFERENCE_REQUIRED',
        `Purpose '${purpose.key}' rests on ${purpose.lawfulBasis}: give --source-reference, recorded as the source of every face this key adds.`,
      );
    const name = input.name?.trim() || `compreface ${purpose.key}`;
    const justification =
      visibleText('justification', input.justification) ?? `CompreFace-compatible client '${name}' (${purpose.key})`;
    return this.deps.apiKeys.create(actor, { name, role: input.role, purposes: [purpose.key] }, (tx, keyId) =>
      aliases.insertKey(tx, {
        keyId,
        purposeId: purpose.id,
        sourceReference,
        justification,
        at: this.deps.clock.now().toISOString(),
      }),
    );
  }

  /** The key behind a call and its purpose, when the actor may do `permission` under it. */
  async context(actor: Actor, permission: Permission): Promise<CompreFaceContext> {
    if (actor.kind !== 'api-key') this.deps.policy.require(actor, permission);
    const key = actor.kind === 'api-key' ? await aliases.key(this.deps.store.db, actor.id) : undefined;
    if (!key)
      throw new VeilError(
        'FORBIDDEN',
        'This key is not a CompreFace compatibility key: create one with veil keys create --role operator --purpose KEY --compreface.',
      );
    const purpose = await this.deps.policy.purpose(actor, permission, key.purposeId);
    return { key, purpose };
  }
}

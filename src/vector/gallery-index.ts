import type { PurposeId, SubjectId, TemplateId } from '../ids.js';
import { AdaptiveIndex } from './adaptive-index.js';
import type { VectorIndex } from './vector-index.js';
import { rescoreExactly, type ExactVectors } from './exact-rescore.js';
import { SubjectFence } from './subject-fence.js';

export interface TemplateVector {
  readonly templateId: TemplateId;
  readonly subjectId: SubjectId;
  readonly purposeId: PurposeId;
  readonly vector: Float32Array;
}

export interface SubjectHit {
  readonly subjectId: SubjectId;
  readonly templateId: TemplateId;
  readonly similarity: number;
}

/**
 * The live matching index: one vector index per purpose holding only the templates that may match
 * now (active subjects with a valid basis). Every change to who may match updates it at once.
 *
 * Large purposes are held quantised (int8 and sign codes, no float vectors in memory): their hits are
 * re-scored on the exact float templates that `exact` reads from the store, so every similarity this
 * returns, and every decision taken on it, is an exact float cosine.
 */
export class GalleryIndex {
  private readonly byPurpose = new Map<PurposeId, VectorIndex>();
  private readonly owner = new Map<TemplateId, { subjectId: SubjectId; purposeId: PurposeId }>();
  /** A subject's templates: one id, or several (most subjects have one; a Set each would cost more). */
  private readonly bySubject = new Map<SubjectId, TemplateId | TemplateId[]>();

  private readonly makeIndex: (dims: number) => VectorIndex;
  private readonly exact: ExactVectors;
  /** Every change made here through add/remove is a local change the follower's older reads must not undo. */
  readonly fence = new SubjectFence();

  constructor(
    readonly dimensions: number,
    opts: { exact?: ExactVectors; makeIndex?: (dims: number) => VectorIndex } = {},
  ) {
    this.makeIndex = opts.makeIndex ?? ((d) => new AdaptiveIndex(d));
    this.exact =
      opts.exact ??
      (() => Promise.reject(new Error('this gallery index has no exact template source for its quantised tier')));
  }

  add(t: TemplateVector): void {
    this.fence.touch(t.subjectId);
    this.put(t);
  }

  /**
   * The change follower's apply: the subject's matchable rows as read from the store at `mark`
   * replace what the index holds, unless a local change touched the subject since (then false:
   * read again later).
   */
  replaceSubject(subjectId: SubjectId, rows: readonly TemplateVector[], mark: number): boolean {
    if (!this.fence.current(subjectId, mark)) return false;
    for (const tid of this.templatesOf(subjectId)) this.unput(tid);
    for (const t of rows) this.put(t);
    return true;
  }

  private put(t: TemplateVector): void {
    let idx = this.byPurpose.get(t.purposeId);
    if (!idx) this.byPurpose.set(t.purposeId, (idx = this.makeIndex(this.dimensions)));
    const prev = this.owner.get(t.templateId);
    if (prev && (prev.subjectId !== t.subjectId || prev.purposeId !== t.purposeId)) {
      this.fence.touch(prev.subjectId);
      this.unput(t.templateId);
    }
    idx.add(t.templateId, t.vector);
    if (!this.owner.has(t.templateId)) this.own(t.templateId, t.subjectId, t.purposeId);
  }

  private own(templateId: TemplateId, subjectId: SubjectId, purposeId: PurposeId): void {
    this.owner.set(templateId, { subjectId, purposeId });
    const held = this.bySubject.get(subjectId);
    if (held === undefined) this.bySubject.set(subjectId, templateId);
    else if (typeof held === 'string') this.bySubject.set(subjectId, [held, templateId]);
    else held.push(templateId);
  }

  /**
   * Takes in a purpose's index loaded from a snapshot (the purpose holds nothing yet), with the
   * template and subject of each of its rows.
   */
  adopt(purposeId: PurposeId, idx: VectorIndex, rows: Iterable<readonly [TemplateId, SubjectId]>): void {
    if (this.byPurpose.get(purposeId)?.size) throw new Error(`purpose ${purposeId} is not empty`);
    this.byPurpose.set(purposeId, idx);
    for (const [t, s] of rows) this.own(t, s, purposeId);
  }

  /** A purpose's own index (a snapshot is written from it). */
  indexOf(purposeId: PurposeId): VectorIndex | undefined {
    return this.byPurpose.get(purposeId);
  }

  purposes(): PurposeId[] {
    return [...this.byPurpose.keys()];
  }

  ownerOf(templateId: TemplateId): { subjectId: SubjectId; purposeId: PurposeId } | undefined {
    return this.owner.get(templateId);
  }

  templateIds(): TemplateId[] {
    return [...this.owner.keys()];
  }

  removeTemplate(id: TemplateId): boolean {
    const o = this.owner.get(id);
    if (o) this.fence.touch(o.subjectId);
    return this.unput(id);
  }

  private unput(id: TemplateId): boolean {
    const o = this.owner.get(id);
    if (!o) return false;
    this.owner.delete(id);
    const held = this.bySubject.get(o.subjectId);
    if (typeof held === 'string' || (held && held.length <= 1)) this.bySubject.delete(o.subjectId);
    else if (held) held.splice(held.indexOf(id), 1);
    return this.byPurpose.get(o.purposeId)?.remove(id) ?? false;
  }

  /** Removes every template of a subject (all purposes, or one). Returns how many were removed. */
  removeSubject(subjectId: SubjectId, purposeId?: PurposeId): number {
    this.fence.touch(subjectId);
    let n = 0;
    for (const tid of this.templatesOf(subjectId)) {
      if (!purposeId || this.owner.get(tid)?.purposeId === purposeId) n += this.unput(tid) ? 1 : 0;
    }
    return n;
  }

  /** Best template per subject, highest first. */
  async search(purposeId: PurposeId, query: Float32Array, k: number, threshold: number): Promise<SubjectHit[]> {
    const idx = this.byPurpose.get(purposeId);
    if (!idx) return [];
    // Subjects may have several templates: over-fetch, then keep each subject's best.
    let hits = idx.search(query, k * 4, { threshold });
    if (hits.some((h) => h.error !== undefined))
      hits = await rescoreExactly(hits, query, k * 4, threshold, this.exact, (id) => this.owner.has(id as TemplateId));
    const best = new Map<SubjectId, SubjectHit>();
    for (const h of hits) {
      const o = this.owner.get(h.id as TemplateId);
      if (!o) continue;
      if (!best.has(o.subjectId))
        best.set(o.subjectId, { subjectId: o.subjectId, templateId: h.id as TemplateId, similarity: h.score });
    }
    return [...best.values()].slice(0, k);
  }

  /** Best template per subject across every purpose (a person's own rights request searches everywhere). */
  async searchAll(query: Float32Array, k: number, threshold: number): Promise<SubjectHit[]> {
    const best = new Map<SubjectId, SubjectHit>();
    for (const p of [...this.byPurpose.keys()]) {
      for (const h of await this.search(p, query, k, threshold)) {
        const cur = best.get(h.subjectId);
        if (!cur || cur.similarity < h.similarity) best.set(h.subjectId, h);
      }
    }
    return [...best.values()].sort((a, b) => b.similarity - a.similarity).slice(0, k);
  }

  templatesOf(subjectId: SubjectId): TemplateId[] {
    const held = this.bySubject.get(subjectId);
    return held === undefined ? [] : typeof held === 'string' ? [held] : [...held];
  }

  size(purposeId?: PurposeId): number {
    if (purposeId) return this.byPurpose.get(purposeId)?.size ?? 0;
    return this.owner.size;
  }

  /** Template ids per purpose, sorted: two indexes with equal snapshots hold the same templates. */
  snapshot(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [p, idx] of this.byPurpose) if (idx.size) out[p] = idx.ids().sort();
    return out;
  }

  clear(): void {
    for (const idx of this.byPurpose.values()) idx.close?.();
    this.byPurpose.clear();
    this.owner.clear();
    this.bySubject.clear();
  }

  /**
   * The follower's full rebuild: every matchable row as read at `mark`, except those of people a local
   * change touched since or holds (the read may be older than it: a withdrawal in flight would be put
   * back). They are left out until read again: returns them.
   */
  replaceAll(rows: readonly TemplateVector[], mark: number): SubjectId[] {
    const changed = this.fence.changedSince(mark);
    const skip = new Set(changed);
    this.clear();
    for (const t of rows) if (!skip.has(t.subjectId)) this.put(t);
    return changed;
  }
}

import type { EmbeddedFace } from '../face/engine.js';
import type { Box } from '../face/geometry.js';
import type { SubjectId, TemplateId } from '../ids.js';
import type { EnrollmentGateName, FacePick } from './enrollment-gate.js';

/** What an enrollment is asked (gallery.service.ts) and what it answers. */
export interface EnrollInput {
  readonly purpose: string;
  /** An existing subject (e.g. the one a consent record created); omitted for non-consent purposes to create one. */
  readonly subjectId?: string | undefined;
  readonly consentId?: string | undefined;
  /** Where the data came from, required when the basis is not consent (Art. 14(2)(f), 15(1)(g)). */
  readonly sourceReference?: string | undefined;
  readonly images: readonly Uint8Array[];
  /** Which face of each image to enroll, on a retry after MULTIPLE_FACES (index or box; null: let Veil choose). */
  readonly faces?: readonly (FacePick | null)[] | undefined;
  /** The quality gate: `import` (an operator's existing photos; the default) or the strict `selfie`. */
  readonly gate?: EnrollmentGateName | undefined;
}

export interface EnrollResult {
  readonly subjectId: SubjectId;
  /** `box`: the face enrolled; `face`: why it (the only face, the dominant one, the one picked). */
  readonly templates: readonly {
    templateId: TemplateId;
    quality: EmbeddedFace['quality'];
    box: Box;
    face: 'only' | 'dominant' | 'picked';
  }[];
  /** Other subjects of this purpose whose face matches (possible duplicate enrollment). */
  readonly possibleDuplicates: readonly { subjectId: SubjectId; similarity: number }[];
}

/** A face to enroll; `chosen` when the photo had others (the dominant face, or the one picked). */
export type EnrollFace = EmbeddedFace & { readonly chosen?: 'dominant' | 'picked' };

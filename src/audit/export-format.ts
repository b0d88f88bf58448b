import type { AuditEntry } from './entry.js';
import type { TreeHead } from './tree-head.js';

/**
 * The export: JSON lines a regulator can verify with nothing but this format's verifier.
 * Line 1 is the header; then one line per entry in seq order; then the signed heads.
 */
export const EXPORT_TYPE = 'veil.audit.export.v1';

export interface ExportKey {
  readonly keyId: string;
  /** SPKI PEM. */
  readonly publicKey: string;
  readonly createdAt: string;
  readonly retiredAt: string | null;
}

export interface ExportHeader {
  readonly type: typeof EXPORT_TYPE;
  readonly exportedAt: string;
  readonly from: number;
  readonly to: number;
  /** The perfect-subtree hashes (hex) of the entries before `from`, so a partial export still recomputes roots. */
  readonly prefix: { readonly size: number; readonly frontier: readonly string[] };
  readonly keys: readonly ExportKey[];
}

export type ExportLine =
  | ExportHeader
  | { readonly type: 'entry'; readonly entry: AuditEntry }
  | { readonly type: 'head'; readonly head: TreeHead };

import type { Migration, MigrationProvider } from 'kysely';
import * as auditLog from './0001-audit-log.js';
import * as gallery from './0002-gallery.js';
import * as rightsRequests from './0003-rights-requests.js';
import * as apiKeys from './0004-api-keys.js';
import * as ordersAndBreaches from './0005-orders-and-breaches.js';
import * as indexChanges from './0006-index-changes.js';
import * as jobLeases from './0007-job-leases.js';
import * as identityProof from './0008-identity-proof.js';
import * as keystore from './0009-keystore.js';
import * as openSet from './0011-open-set.js';
import * as authorizedAgents from './0010-authorized-agents.js';
import * as searchFaces from './0012-search-faces.js';
import * as comprefaceAliases from './0013-compreface-aliases.js';
import * as sightingCrops from './0014-sighting-crops.js';
import * as matchConfirmations from './0015-match-confirmations.js';
import * as indexSegments from './0016-index-segments.js';
import * as segmentFeedSeq from './0017-segment-feed-seq.js';
import * as reembedRuns from './0018-reembed-runs.js';
import * as erasureLookups from './0019-erasure-lookups.js';

/**
 * Every schema migration, by the name Kysely records in `kysely_migration`. Append only: a released
 * migration is never edited or renamed. Names start with a zero-padded version so they sort in the
 * order they run; that number is the schema version `veil migrate --status` reports. Imported
 * statically (no directory scan) so the list is the same under tsx, compiled output and a bundle.
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-audit-log': auditLog,
  '0002-gallery': gallery,
  '0003-rights-requests': rightsRequests,
  '0004-api-keys': apiKeys,
  '0005-orders-and-breaches': ordersAndBreaches,
  '0006-index-changes': indexChanges,
  '0007-job-leases': jobLeases,
  '0008-identity-proof': identityProof,
  '0009-keystore': keystore,
  '0010-authorized-agents': authorizedAgents,
  '0011-open-set': openSet,
  '0012-search-faces': searchFaces,
  '0013-compreface-aliases': comprefaceAliases,
  '0014-sighting-crops': sightingCrops,
  '0015-match-confirmations': matchConfirmations,
  '0016-index-segments': indexSegments,
  '0017-segment-feed-seq': segmentFeedSeq,
  '0018-reembed-runs': reembedRuns,
  '0019-erasure-lookups': erasureLookups,
});

export const migrationProvider: MigrationProvider = { getMigrations: async () => ({ ...MIGRATIONS }) };

/** The schema version a migration name stands for (its numeric prefix); NaN for a name not made here. */
export function versionOf(name: string): number {
  const m = /^(\d+)-/.exec(name);
  return m ? Number(m[1]) : NaN;
}

import type { Store } from '../store/store.js';
import { purposeDpv } from '../privacy/purpose.service.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import { figuresRepository } from './oversight.repository.js';
import { LAWFUL_BASES, ART9_CONDITIONS } from '../privacy/purpose.js';
import type { OversightSettings } from './settings.js';

export const SECURITY_MEASURES = [
  'Biometric templates and kept photos encrypted at rest with AES-256-GCM under a per-subject data key, wrapped by a master key held outside the database',
  'Crypto-shredding: erasure destroys the subject data key, so every copy of their templates, backups included, becomes unreadable',
  'Tamper-evident audit log (RFC 6962 Merkle tree, Ed25519-signed tree heads) verifiable offline by the supervisory authority',
  'API keys (24 random bytes, stored as SHA-256) bound to a role and to purposes; investigators must give a case reference for every search',
  'Probe photos are never stored: only their SHA-256 and the search accounting',
  'Faces in ingested photos that match no consenting subject are never stored as templates',
];

/** The Art. 30 record of processing, generated from the configured purposes and live counts. */
export async function buildRopa(deps: { store: Store }, s: OversightSettings, now: Date) {
  const purposes = await purposeRepository.list(deps.store.db);
  const items = [];
  for (const p of purposes) {
    const f = await figuresRepository.forPurpose(deps.store.db, p.id);
    items.push({
      purpose: { key: p.key, name: p.name, description: p.description, status: p.status },
      lawfulBasis: {
        art6: p.lawfulBasis,
        art6Dpv: LAWFUL_BASES[p.lawfulBasis],
        art9: p.art9Condition,
        art9Dpv: ART9_CONDITIONS[p.art9Condition],
        legalReference: p.legalReference,
      },
      categoriesOfDataSubjects: [
        p.lawfulBasis === 'consent'
          ? 'people who gave explicit consent to this purpose'
          : 'people enrolled under the legal basis above, with a source reference each',
      ],
      categoriesOfPersonalData: [
        { category: 'biometric templates (dpv-pd:FacialPrint)', records: f.templates },
        { category: 'enrollment photos (dpv-pd:Photograph)', records: f.keptPhotos },
        {
          category: 'photos ingested by the operator, with face boxes and matches (dpv-pd:Photograph)',
          records: f.media,
        },
        { category: 'contact email for rights requests (dpv-pd:EmailAddress)', records: f.contacts },
      ],
      subjects: f.subjects,
      recipients: {
        declared: p.recipients,
        observedInSearchAccounting: f.observedRecipients,
      },
      transfers: s.transfers.length ? s.transfers : ['none outside the EEA'],
      retention: { afterLastInteraction: p.retention, searchLog: s.searchLogRetention },
      securityMeasures: SECURITY_MEASURES,
      dpv: purposeDpv(p),
    });
  }
  return {
    '@context': {
      dpv: 'https://w3id.org/dpv#',
      'dpv-gdpr': 'https://w3id.org/dpv/legal/eu/gdpr#',
      'dpv-pd': 'https://w3id.org/dpv/pd#',
      dcterms: 'http://purl.org/dc/terms/',
    },
    type: 'veil.ropa.v1',
    generatedAt: now.toISOString(),
    controller: s.controller,
    dpo: s.dpo,
    processing: items,
  };
}

export type Ropa = Awaited<ReturnType<typeof buildRopa>>;

export function ropaMarkdown(r: Ropa): string {
  const out = [
    `# Record of processing activities (GDPR Art. 30)`,
    '',
    `Generated ${r.generatedAt} from the live system.`,
    '',
    `- Controller: ${r.controller.name} (${r.controller.contact})`,
    `- Data protection officer: ${r.dpo.name} (${r.dpo.email})`,
    '',
  ];
  for (const p of r.processing) {
    out.push(
      `## ${p.purpose.name} (\`${p.purpose.key}\`)${p.purpose.status === 'suspended' ? ' — SUSPENDED' : ''}`,
      '',
      p.purpose.description,
      '',
    );
    out.push(
      `- Lawful basis: ${p.lawfulBasis.art6} (${p.lawfulBasis.art6Dpv}); Art. 9(2) condition: ${p.lawfulBasis.art9} (${p.lawfulBasis.art9Dpv})${p.lawfulBasis.legalReference ? `; relying on ${p.lawfulBasis.legalReference}` : ''}`,
    );
    out.push(`- Data subjects: ${p.categoriesOfDataSubjects.join('; ')} — ${p.subjects} now`);
    out.push(`- Personal data: ${p.categoriesOfPersonalData.map((c) => `${c.category}: ${c.records}`).join('; ')}`);
    out.push(
      `- Recipients: ${p.recipients.declared.join(', ') || 'none declared'}; observed in search accounting: ${p.recipients.observedInSearchAccounting.map((o) => `${o.actor} (${o.disclosingSearches})`).join(', ') || 'none'}`,
    );
    out.push(
      `- Transfers: ${p.transfers.join('; ')}`,
      `- Retention: ${p.retention.afterLastInteraction} after the last interaction; search log ${p.retention.searchLog}`,
    );
    out.push(`- Security measures:`, ...p.securityMeasures.map((m) => `  - ${m}`), '');
  }
  return out.join('\n') + '\n';
}

import { strToU8 } from 'fflate';
import type { Store } from '../store/store.js';
import type { SubjectId } from '../ids.js';
import type { KeyRing } from '../privacy/keyring.js';
import { consentRepository } from '../privacy/consent.repository.js';
import { buildReceipt } from '../privacy/consent.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import type { Purpose } from '../privacy/purpose.js';
import { purposeDpv } from '../privacy/purpose.service.js';
import { subjectRepository as subjects } from '../gallery/subject.repository.js';
import { searchRepository } from '../gallery/search.repository.js';
import { confirmationRepository } from '../gallery/confirmation.repository.js';
import { confirmationOf } from '../gallery/match-confirmation.js';
import { subjectListRepository } from '../gallery/subject-list.repository.js';
import { apiKeyRepository } from '../auth/api-key.repository.js';
import { mediaRepository } from '../gallery/media.repository.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import type { IngestService } from '../gallery/ingest.service.js';
import { text } from '../text/index.js';
import { sightingCrops, type SightingToCrop } from './export-crops.js';
import { writeZip, type ZipEntry } from './zip-stream.js';
import type { AuditSigningKey } from '../audit/signing-key.js';
import type { ModelCalibration } from '../face/model-calibration.js';
import { isVeilError } from '../errors.js';

/** The active model's numbers, told in Art. 15(1)(h)'s "meaningful information about the logic involved". */
export type MatchingFacts = Pick<ModelCalibration, 'model' | 'dimensions' | 'threshold' | 'fmr'>;

export interface ExportDeps {
  store: Store;
  keyring: KeyRing;
  vault: TemplateVault;
  ingest: Pick<IngestService, 'photo'>;
  signingKey: AuditSigningKey;
  controller: string;
  matching: MatchingFacts;
}

export interface AccessPackage {
  readonly manifest: Record<string, unknown>;
  /** How many files the manifest names (kept enrollment photos and one crop per sighting). */
  readonly fileCount: number;
  /** Those files in the manifest's order, in batches made (crops read or computed) as they are consumed. */
  readonly files: () => AsyncIterable<ZipEntry[]>;
}

/** Everything Veil holds about these subjects, with the person's own face cropped from photos and every other face blurred. */
export async function buildAccessPackage(
  deps: ExportDeps,
  subjectIds: readonly SubjectId[],
  opts: { language: 'en' | 'fr'; requestId: string; withEmbeddings: boolean; now: string; partial?: boolean },
): Promise<AccessPackage> {
  const db = deps.store.db;
  const images: ZipEntry[] = [];
  const crops: { subjectId: SubjectId; key: Buffer | null; list: SightingToCrop[] }[] = [];
  const out: Record<string, unknown>[] = [];
  const names = await recipientNames(db, opts.language);
  for (const id of subjectIds) {
    const s = await subjects.get(db, id);
    if (!s) continue;
    if (s.state === 'erased') {
      out.push({
        subjectId: id,
        state: 'erased',
        erasedAt: s.updatedAt,
        note: 'All data about this person was erased; only this tombstone remains.',
      });
      continue;
    }
    let key: Buffer | null = null;
    try {
      key = await deps.keyring.get(db, id);
    } catch (e) {
      if (!isVeilError(e, 'KEY_DESTROYED')) throw e;
    }
    const contact = s.contactSealed && key ? deps.vault.openContact(key, id, s.contactSealed) : null;
    const consents = await consentRepository.forSubject(db, id);
    const templates = await subjects.templates(db, { subjectId: id });
    const enrollments = await subjects.enrollments(db, id);
    const purposeIds = [
      ...new Set([
        ...templates.map((t) => t.purposeId as string),
        ...consents.map((c) => c.purposeId as string),
        ...enrollments.map((e) => e.purpose_id),
      ]),
    ];
    const purposes = (await Promise.all(purposeIds.map((p) => purposeRepository.byIdOrKey(db, p)))).filter(
      (p): p is Purpose => Boolean(p),
    );
    const templateDocs = [];
    for (const t of templates) {
      const doc: Record<string, unknown> = {
        templateId: t.id,
        purpose: purposes.find((p) => p.id === t.purposeId)?.key,
        model: t.model,
        createdAt: t.createdAt,
        quality: t.quality,
        sourceImageSha256: t.sourceSha256,
      };
      if (opts.withEmbeddings && key)
        doc['embedding'] = Array.from(deps.vault.openTemplate(key, t), (v) => Math.round(v * 1e7) / 1e7);
      if (key) {
        const img = deps.vault.readImage(key, t);
        if (img) {
          const name = `${id}/enrollment/${t.id}.jpg`;
          images.push({ name, bytes: img });
          doc['image'] = name;
        }
      }
      templateDocs.push(doc);
    }
    const list = await mediaRepository.sightingsOf(db, id);
    const sightings = list.map((sg) => ({
      mediaId: sg.mediaId,
      purpose: purposes.find((p) => p.id === sg.purposeId)?.key ?? sg.purposeId,
      ingestedAt: sg.ingestedAt,
      similarity: sg.similarity,
      image: `${id}/photos/${sg.mediaId}-${sg.id}.jpg`,
    }));
    crops.push({ subjectId: id, key, list: list.map((sg, i) => ({ ...sg, image: sightings[i]!.image })) });
    const decided = await confirmationRepository.ofSubject(db, id);
    const disclosures = (await searchRepository.disclosuresOf(db, id)).map((d) => {
      // EU AI Act Art. 14(5): who confirmed or rejected this match, when, and where it stands.
      const mine = decided.filter((c) => c.searchId === d.id && c.face === Number(d.face));
      const required = d.confirmations ?? 0;
      return {
        searchId: d.id,
        kind: d.kind,
        purpose: purposes.find((p) => p.id === d.purpose_id)?.key ?? d.purpose_id,
        at: d.at,
        recipient: `${d.actor_kind}:${d.actor_id}`,
        recipientName: names(d.actor_kind, d.actor_id),
        // Case references and justifications stay out: they can reveal an investigation (Art. 23(1)(d)).
        similarity: d.similarity,
        rank: d.rank,
        ...(d.kind === 'identify' && (required > 0 || mine.length)
          ? {
              confirmation: confirmationOf(
                required,
                mine.map((c) => ({ by: `${c.actorKind}:${c.actorId}`, decision: c.decision })),
              ),
              decisions: mine.map((c) => ({
                decision: c.decision,
                at: c.at,
                by: `${c.actorKind}:${c.actorId}`,
                byName: names(c.actorKind, c.actorId),
                ...(c.requestId ? { contest: c.requestId } : {}),
              })),
            }
          : {}),
      };
    });
    out.push({
      subjectId: id,
      state: s.state,
      createdAt: s.createdAt,
      region: s.region,
      contactEmail: contact,
      purposes: purposes.map((p) => {
        const e = enrollments.find((x) => x.purpose_id === p.id);
        return {
          key: p.key,
          name: p.name,
          description: p.description,
          lawfulBasis: p.lawfulBasis,
          art9Condition: p.art9Condition,
          legalReference: p.legalReference,
          retention: p.retention,
          recipients: p.recipients,
          // Art. 15(1)(g): where the data came from.
          source: e?.consent_id
            ? { consentId: e.consent_id }
            : e?.source_reference
              ? { sourceReference: e.source_reference }
              : null,
          enrolledAt: e?.created_at ?? null,
          dpv: purposeDpv(p),
        };
      }),
      consents: consents.map((c) => ({
        ...c,
        receipt: buildReceipt(
          c,
          purposes.find((p) => p.id === c.purposeId)!,
          deps.controller,
          deps.signingKey.keyId,
          deps.signingKey.privateKey,
        ),
      })),
      templates: templateDocs,
      sightings,
      disclosures,
      // Art. 15(1)(c): who was shown this person's record or photos in the console or the API.
      views: (await subjectListRepository.viewsOf(db, id)).map((w) => ({
        at: w.time,
        viewer: `${w.actor_kind}:${w.actor_id}`,
        viewerName: names(w.actor_kind, w.actor_id),
        what: String((JSON.parse(w.body) as { detail?: { view?: string } }).detail?.view ?? 'record'),
      })),
    });
  }
  const nothingHeld = out.length === 0;
  const manifest = {
    format: opts.withEmbeddings ? 'veil.portability.v1' : 'veil.access-export.v1',
    requestId: opts.requestId,
    generatedAt: opts.now,
    controller: deps.controller,
    nothingHeld,
    // While the search by face waits for review, "nothing held" would be premature: say what is pending.
    ...(opts.partial
      ? { partial: true, message: text(opts.language).outcome.underReview }
      : nothingHeld
        ? { message: text(opts.language).outcome.nothingHeld }
        : {}),
    subjects: out,
    automatedMatching: text(opts.language).automatedMatching(deps.matching),
    rights: text(opts.language).rightsReminder,
  };
  const cropDeps = { store: deps.store, vault: deps.vault, ingest: deps.ingest };
  return {
    manifest,
    fileCount: images.length + crops.reduce((n, c) => n + c.list.length, 0),
    files: async function* () {
      yield images;
      for (const c of crops) yield* sightingCrops(cropDeps, c.subjectId, c.key, c.list);
    },
  };
}

/** Recipients as people read them: an API key by its name and role, the command line, Veil itself. */
async function recipientNames(db: Store['db'], lang: 'en' | 'fr') {
  const t = text(lang).recipients;
  const keys = new Map((await apiKeyRepository.all(db)).map((k) => [k.id, k]));
  return (kind: string, id: string): string => {
    if (kind === 'api-key') {
      const k = keys.get(id);
      return k ? t.key(k.name, t.roles[k.role as keyof typeof t.roles] ?? k.role) : t.unknown;
    }
    if (kind === 'cli') return t.cli;
    if (kind === 'system') return t.system;
    if (kind === 'agent') return t.agent;
    if (kind === 'public') return t.you;
    return t.unknown;
  };
}

/** The access ZIP, written to `out` as it is made: the manifest, then every file (JPEGs stored). */
export async function writeAccessZip(
  p: AccessPackage,
  out: (chunk: Uint8Array) => void,
  now = new Date(),
): Promise<number> {
  const manifest = strToU8(JSON.stringify(p.manifest, null, 2));
  return writeZip(
    (async function* () {
      yield [{ name: 'manifest.json', bytes: manifest }];
      yield* p.files();
    })(),
    out,
    now,
  );
}

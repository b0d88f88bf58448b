import type { ExportFiles } from '../export-files.js';
import { buildAccessPackage, zipPackage, type ExportDeps } from '../access-export.js';
import type { HandlerContext, HandlerResult, RightHandler } from './handler.js';

/** Access (Art. 15) as a ZIP with the person's own face in every photo; portability (Art. 20) as JSON with embeddings. */
export class AccessHandler implements RightHandler {
  readonly kinds = ['access', 'portability'] as const;

  constructor(private readonly deps: { exportDeps: ExportDeps; files: ExportFiles }) {}

  async fulfil({ request: r, targets, now }: HandlerContext): Promise<HandlerResult> {
    const portable = r.kind === 'portability';
    const pkg = await buildAccessPackage(this.deps.exportDeps, targets, {
      language: r.language,
      requestId: r.id,
      withEmbeddings: portable,
      now,
    });
    const bytes = portable ? Buffer.from(JSON.stringify(pkg.manifest, null, 2)) : zipPackage(pkg);
    const artifactId = await this.deps.files.write(
      portable ? 'portability-export' : 'access-export',
      bytes,
      targets,
      r.id,
      now,
    );
    return {
      outcome: {
        artifactId,
        nothingHeld: pkg.manifest['nothingHeld'],
        subjects: targets.length,
        files: Object.keys(pkg.files).length,
        format: portable ? 'json' : 'zip',
      },
    };
  }
}

import type { ExportFiles } from '../export-files.js';
import { buildAccessPackage, writeAccessZip, type ExportDeps } from '../access-export.js';
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
    // The ZIP is sealed and written to disk as it is made, entry by entry: never whole in memory.
    const artifactId = portable
      ? await this.deps.files.write(
          'portability-export',
          Buffer.from(JSON.stringify(pkg.manifest, null, 2)),
          targets,
          r.id,
          now,
        )
      : await this.deps.files.writeStream('access-export', targets, r.id, now, async (sink) => {
          await writeAccessZip(pkg, sink, new Date(now));
        });
    return {
      outcome: {
        artifactId,
        nothingHeld: pkg.manifest['nothingHeld'],
        subjects: targets.length,
        files: pkg.fileCount,
        format: portable ? 'json' : 'zip',
      },
    };
  }
}

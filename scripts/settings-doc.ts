// Writes docs/configuration.md from the settings table (src/config/table.ts), aligned by Prettier so the table also
// reads as plain text (Prettier skips *.md otherwise).
// node --import tsx scripts/settings-doc.ts
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { settingsMarkdown } from '../src/config/docs.js';

export const DOC_PATH = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'configuration.md');

/** The document exactly as committed; the drift test compares against it. */
export async function configurationDoc(): Promise<string> {
  const options = await resolveConfig(DOC_PATH);
  return format(settingsMarkdown(), { ...options, filepath: DOC_PATH });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(DOC_PATH, await configurationDoc());
  console.log(`wrote ${DOC_PATH}`);
}

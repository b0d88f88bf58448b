import { Zip, ZipDeflate, ZipPassThrough } from 'fflate';

export interface ZipEntry {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Already compressed: stored as they are (deflating a JPEG costs time and saves nothing). */
const STORED = /\.(jpe?g|png|webp|zip)$/i;

/**
 * Writes a ZIP to `out` entry by entry as the entries come (fflate's streaming `Zip`): only the entry
 * being written is in memory. JPEGs are stored, everything else deflated. Returns the entry count.
 */
export async function writeZip(entries: AsyncIterable<ZipEntry>, out: (chunk: Uint8Array) => void): Promise<number> {
  let failed: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failed ??= err;
    else out(chunk);
  });
  let n = 0;
  for await (const e of entries) {
    const file = STORED.test(e.name) ? new ZipPassThrough(e.name) : new ZipDeflate(e.name, { level: 6 });
    zip.add(file);
    file.push(e.bytes, true);
    if (failed) throw failed;
    n++;
  }
  zip.end();
  if (failed) throw failed;
  return n;
}

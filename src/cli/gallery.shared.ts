import { readFile } from 'node:fs/promises';
import { VeilError } from '../errors.js';
import { openLocalServices, type LocalServices } from './context.js';
import type { Io } from './output.js';

export const GALLERY_HELP = `veil purpose create --key K --name N --description D --basis B [options]
  --art9 C --legal-ref TEXT --retention P1Y --recipient R (repeatable) --requires-case-ref --keep-images
veil purpose list
veil consent give --purpose P --notice-file F --notice-version V --method portal|api|paper --collector C
                  [--subject S] [--email E] [--receipt-out FILE]
veil consent withdraw <consent-id>
veil subject enroll --purpose P (--consent C | --subject S | --source-ref R) <image...>
veil identify --purpose P <image> (--case-ref R | --justification J) [--k N] [--max-faces N] [--threshold T]
                  every face (at most 20, largest first): a line each with its box and candidates
veil verify --purpose P <image> (--subject S | --against IMAGE) (--case-ref R | --justification J)
veil ingest --purpose P <folder-or-files...>     resumable: already-ingested photos are skipped
veil redact <media-id> --out FILE.jpg
Every command takes --json.`;

export async function withVeil<T>(io: Io, fn: (v: LocalServices) => Promise<T>): Promise<T> {
  const v = await openLocalServices(io);
  try {
    return await fn(v);
  } finally {
    await v.close();
  }
}

export function out(io: Io, json: boolean | undefined, human: string, doc: unknown): void {
  io.out(json ? JSON.stringify(doc) + '\n' : human + '\n');
}

export async function readImage(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch {
    throw new VeilError('NOT_FOUND', `${path}: no such file.`);
  }
}

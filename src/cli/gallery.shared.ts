import { readFile } from 'node:fs/promises';
import { VeilError } from '../errors.js';
import { openLocalServices, type LocalServices } from './context.js';
import type { Io } from './output.js';

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

import type { z } from 'zod';
import { VeilError } from './errors.js';

/** One message for every validation failure: `where.path: problem; ...`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], where?: string): string {
  return issues
    .map((i) => {
      const path = [where, ...i.path.map(String)].filter(Boolean).join('.');
      return `${path || 'input'}: ${i.message}`;
    })
    .join('; ');
}

/** Parses input with a zod schema, or throws INVALID_INPUT naming every bad field. */
export function parseInput<T extends z.ZodType>(schema: T, raw: unknown, where?: string): z.output<T> {
  const r = schema.safeParse(raw);
  if (!r.success) throw new VeilError('INVALID_INPUT', describeIssues(r.error.issues, where));
  return r.data;
}

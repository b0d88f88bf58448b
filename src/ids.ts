import { randomBytes } from 'node:crypto';

/** Branded ids: a SubjectId cannot be passed where a PurposeId is expected. */
type Brand<T, B extends string> = T & { readonly __brand: B };
export type SubjectId = Brand<string, 'SubjectId'>;
export type PurposeId = Brand<string, 'PurposeId'>;
export type TemplateId = Brand<string, 'TemplateId'>;
export type ConsentId = Brand<string, 'ConsentId'>;
export type MediaId = Brand<string, 'MediaId'>;
export type SearchId = Brand<string, 'SearchId'>;

const PREFIX = {
  SubjectId: 'sub',
  PurposeId: 'pur',
  TemplateId: 'tpl',
  ConsentId: 'con',
  MediaId: 'med',
  SearchId: 'srch',
} as const;

function make(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

export const newId = {
  subject: () => make(PREFIX.SubjectId) as SubjectId,
  purpose: () => make(PREFIX.PurposeId) as PurposeId,
  template: () => make(PREFIX.TemplateId) as TemplateId,
  consent: () => make(PREFIX.ConsentId) as ConsentId,
  media: () => make(PREFIX.MediaId) as MediaId,
  search: () => make(PREFIX.SearchId) as SearchId,
  other: (prefix: string) => make(prefix),
};

const ID = /^[a-z]{2,5}_[A-Za-z0-9_-]{16}$/;
export function isId(s: string, prefix: string): boolean {
  return ID.test(s) && s.startsWith(`${prefix}_`);
}

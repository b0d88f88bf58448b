import type { Role } from '../auth/api-keys.js';
import type { Services } from '../app/veil.js';
import { cliActor } from './context.js';
import { UsageError, type Io } from './output.js';

/** The options `veil keys create` takes for a CompreFace compatibility key. */
export const COMPREFACE_KEY_OPTIONS = {
  compreface: { type: 'boolean' },
  'source-reference': { type: 'string' },
  justification: { type: 'string' },
} as const;

export const COMPREFACE_KEY_USAGE =
  '       veil keys create --role operator|admin --purpose KEY --compreface [--source-reference TEXT] [--justification TEXT]';

/**
 * `veil keys create --compreface`: a key CompreFace clients send as `x-api-key`, bound to exactly one
 * purpose, with the source reference recorded for faces added under a non-consent basis and the
 * justification recorded for every search.
 */
export async function createCompreFaceKey(
  services: Pick<Services, 'compreface'>,
  values: {
    role?: string | undefined;
    purpose?: string[] | undefined;
    name?: string | undefined;
    json?: boolean | undefined;
    'source-reference'?: string | undefined;
    justification?: string | undefined;
  },
  io: Io,
  usage: string,
): Promise<number> {
  if (!values.role || values.purpose?.length !== 1) throw new UsageError(`${usage}\n${COMPREFACE_KEY_USAGE}`);
  const r = await services.compreface.keys.create(cliActor(), {
    name: values.name,
    role: values.role as Role,
    purpose: values.purpose[0]!,
    sourceReference: values['source-reference'],
    justification: values.justification,
  });
  io.out(
    values.json
      ? JSON.stringify(r) + '\n'
      : `created ${r.key.id} (${r.key.role}, CompreFace-compatible, purpose ${r.key.purposes[0]}); use it as x-api-key, shown only now:\n${r.token}\n`,
  );
  return 0;
}

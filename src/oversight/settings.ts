/** What the controller declares about itself; from configuration (VEIL_CONFIG "oversight" or env). */
export interface OversightSettings {
  readonly controller: { readonly name: string; readonly contact: string };
  readonly dpo: { readonly name: string; readonly email: string };
  /** Transfers outside the EEA with their safeguards; empty when there are none. */
  readonly transfers: readonly string[];
  /** How long search accounting (probe hashes, who searched, results) is kept. */
  readonly searchLogRetention: string;
}

export const DEFAULT_OVERSIGHT: OversightSettings = {
  controller: { name: 'Veil operator', contact: 'privacy@localhost' },
  dpo: { name: 'Data protection officer', email: 'dpo@localhost' },
  transfers: [],
  searchLogRetention: 'P1Y',
};

import type { Store } from '../../src/store/store.js';

/**
 * A store whose next transaction to take the audit lock, once armed, is held there: after it wrote
 * what it writes, before it commits. Races are played by starting another change meanwhile.
 */
export function heldAtAudit(real: Store) {
  let hold: Promise<void> | null = null;
  let held!: () => void;
  const atHold = new Promise<void>((r) => (held = r));
  const store: Store = {
    ...real,
    serializeAudit: async (tx) => {
      const h = hold;
      hold = null;
      if (h) {
        held();
        await h;
      }
      return real.serializeAudit(tx);
    },
  };
  /** Arms the hold: `atHold` resolves once a transaction is held, `go` lets it on. */
  const arm = () => {
    let go!: () => void;
    hold = new Promise<void>((r) => (go = r));
    return { atHold, go };
  };
  return { store, arm };
}

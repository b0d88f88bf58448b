import type { Slot } from './keystore-format.js';

/**
 * Which keystore slots past the last sweep are orphans, and how far the sweep may now say it has
 * looked (pure: the start-up upkeep reads the slots and the names, then writes what this decides).
 *
 * An orphan is a live slot no database row names, written before `oldBefore` (seconds): a transaction
 * that wrote its key and rolled back, or a key a restored database never had. A slot is settled once
 * nothing can change what it means: named (its transaction committed), a tombstone, an orphan, or an
 * empty slot (allocated, never written) below a slot written before `oldBefore`, since a transaction
 * writes its key right after the database allocates its slot. `sweptTo` stops below the first slot
 * that is not settled (a young unnamed key, an empty slot at the end), so the next sweep starts
 * there: a start reads the slots created since the last one, not the whole keystore, and a restored
 * database, whose own mark is older, makes the next start look at every slot written since.
 */
export function planSweep(
  tail: readonly Slot[],
  named: ReadonlySet<number>,
  oldBefore: number,
  sweptTo: number,
): { orphans: Slot[]; sweptTo: number } {
  const orphans = tail.filter((s) => s.state === 'live' && !named.has(s.slot) && s.createdAt < oldBefore);
  let lastOld = 0;
  for (const s of tail) if (s.state === 'live' && s.createdAt < oldBefore) lastOld = s.slot;
  const unsettled = tail.find(
    (s) =>
      !named.has(s.slot) &&
      ((s.state === 'live' && s.createdAt >= oldBefore) || (s.state === 'empty' && s.slot > lastOld)),
  );
  const last = tail.length ? tail[tail.length - 1]!.slot : sweptTo;
  return { orphans, sweptTo: Math.max(sweptTo, unsettled ? unsettled.slot - 1 : last) };
}

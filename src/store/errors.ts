/** Driver-neutral checks on database errors. */
export function isUniqueViolation(e: unknown): boolean {
  const x = e as { code?: string; message?: string };
  return x?.code === 'SQLITE_CONSTRAINT_UNIQUE' || x?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || x?.code === '23505';
}

/**
 * The database went away or is busy (connection terminated, server restarting, lock timeout): the
 * transaction rolled back and the same request can be retried. Never a reason to answer 500.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  const x = e as { code?: string; message?: string };
  if (!x) return false;
  const code = x.code ?? '';
  if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300')
    return true;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EPIPE' || code === 'SQLITE_BUSY') return true;
  return /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect/i.test(
    x.message ?? '',
  );
}

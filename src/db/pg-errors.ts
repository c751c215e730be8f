/** PostgreSQL error codes we turn into problems (the same on pg and PGlite). */
export const PG = { uniqueViolation: '23505', foreignKeyViolation: '23503', checkViolation: '23514' } as const

/** The SQLSTATE and constraint of a database error, if it is one. */
export function pgError(e: unknown): { code: string; constraint?: string } | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    const err = e as { code: string; constraint?: string }
    return err.constraint ? { code: err.code, constraint: err.constraint } : { code: err.code }
  }
  return undefined
}

/** PostgreSQL error codes (SQLSTATE) we act on, the same on pg and PGlite. */
export const PG = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  /** ON DELETE RESTRICT refused a delete (PostgreSQL 16 and later; earlier ones answer 23503) */
  restrictViolation: '23001',
  checkViolation: '23514',
  /** a transaction that lost a race at REPEATABLE READ or SERIALIZABLE: try it again */
  serializationFailure: '40001',
  deadlockDetected: '40P01',
  /** statement_timeout (or a cancel request) stopped a statement */
  queryCanceled: '57014',
  tooManyConnections: '53300',
  adminShutdown: '57P01',
  crashShutdown: '57P02',
  /** the server is starting up, shutting down or in recovery */
  cannotConnectNow: '57P03',
  idleSessionTimeout: '57P05',
  /** a named statement the connection does not have, or has already: a pooler that does not track them */
  invalidStatementName: '26000',
  duplicatePreparedStatement: '42P05',
  /** raised by the accounts_check_tree trigger: the move would make a cycle, or a tree over five levels */
  accountTreeCycle: 'ACT01',
  accountTreeTooDeep: 'ACT02',
} as const

/** The SQLSTATE and constraint of a database error, if it is one. */
export function pgError(e: unknown): { code: string; constraint?: string } | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    const err = e as { code: string; constraint?: string }
    return err.constraint ? { code: err.code, constraint: err.constraint } : { code: err.code }
  }
  return undefined
}

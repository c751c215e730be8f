/**
 * Rows a bulk INSERT sends in one statement. PostgreSQL takes at most 65,535 parameters a
 * statement; the rows inserted in bulk (accounts, users, audit events) have 9 columns at most, so
 * 5,000 rows (45,000 parameters) stay under it, with room for a column or three more.
 */
const INSERT_CHUNK_ROWS = 5000

/** Runs `insert` on `rows` in chunks of INSERT_CHUNK_ROWS, one after another, and joins what each returns. */
export async function inChunks<T, R>(rows: readonly T[], insert: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
  const out: R[] = []
  for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS)
    out.push(...(await insert(rows.slice(i, i + INSERT_CHUNK_ROWS))))
  return out
}

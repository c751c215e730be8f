import { type OperationNodeSource, type RawBuilder, sql } from 'kysely'

import type { Db } from './database.ts'

/**
 * A data-modifying query not yet run: a Kysely insert, update or delete builder, or `sql`. The
 * modules that own rows (audit, events, mail) hand these out, so that a caller can write its rows
 * and theirs in one statement while each module still states how its rows are built.
 */
export type Write = OperationNodeSource

/**
 * Writes that read nothing of each other, as one statement: `with w0 as (...), w1 as (...)
 * select 1`, one round trip instead of one each. Each write is embedded as Kysely's node, so the
 * parameters of the whole are numbered by Kysely as for any query, and the text depends only on
 * which writes are given, never on their values (db/prepared-statements.ts).
 *
 * PostgreSQL's rules for data-modifying WITH decide what may go together:
 * - every write sees the database as it was when the statement began, none sees the others'
 *   rows, and the order in which they run is unspecified. So writes may not touch the same rows,
 *   nor depend on running in order: a DELETE and an INSERT of the same key are two statements.
 * - foreign keys are checked at the end of the statement: a row may reference one that another
 *   write of it inserts (a delivery its notification). test/db/one-statement.test.ts checks it.
 * - a data-modifying WITH is allowed only at the top level: a write may not have a WITH of its own.
 */
export function oneStatement(writes: readonly Write[]): RawBuilder<unknown> {
  if (writes.length === 1) return sql`${writes[0]}`
  const parts = writes.map((w, i) => sql`${sql.ref(`w${i}`)} as (${w})`)
  return sql`with ${sql.join(parts)} select 1`
}

/** Runs `writes` as one statement (`oneStatement`); no writes, no statement. */
export async function executeAsOne(db: Db, writes: readonly Write[]): Promise<void> {
  if (writes.length === 0) return
  await oneStatement(writes).execute(db)
}

import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import type { RowProblem } from './rejects.ts'

/** A row whose cells passed the schemas, with the value they make. */
export interface ReadyRow<P> {
  line: number
  cells: string[]
  value: P
}

/** What became of one row. */
export type RowResult =
  | { line: number; cells: string[]; result: 'changed' | 'unchanged' }
  | { line: number; cells: string[]; result: 'rejected'; problem: RowProblem }

/** What an import counts besides rows. */
export const TALLY_KEYS = [
  'accountsCreated',
  'accountsUpdated',
  'usersCreated',
  'usersUpdated',
  'sheetsChanged',
  'parentsSet',
] as const
export type Tally = Record<(typeof TALLY_KEYS)[number], number>
export const emptyTally = (): Tally => ({
  accountsCreated: 0,
  accountsUpdated: 0,
  usersCreated: 0,
  usersUpdated: 0,
  sheetsChanged: 0,
  parentsSet: 0,
})

export interface GroupResult {
  rows: RowResult[]
  tally?: Partial<Tally>
}

/**
 * Writes one account group (its rows) or several, in the given transaction. A thrown error means
 * the transaction may be unusable and is rolled back whole; a refused account is answered as
 * rejected rows instead, and must then have written nothing.
 */
export type ApplyGroups<P> = (trx: Db, groups: ReadyRow<P>[][]) => Promise<GroupResult[]>

/** Every row of a group refused: the bad ones with their problem, the rest held back with them. */
export function rejectGroup(
  rows: { line: number; cells: string[] }[],
  problems: Map<number, RowProblem>,
  heldBack: (badLine: number) => RowProblem,
): GroupResult {
  const firstBad = rows.find((r) => problems.has(r.line))!.line
  return {
    rows: rows.map((r) => ({
      line: r.line,
      cells: r.cells,
      result: 'rejected',
      problem: problems.get(r.line) ?? heldBack(firstBad),
    })),
  }
}

class DryRun<T> {
  constructor(readonly result: T) {}
}

/**
 * Runs `work` in a transaction; a dry run rolls it back at the end, having checked everything the
 * real run would (the same statements, constraints and locks).
 */
export async function inTransaction<T>(db: Db, dryRun: boolean, work: (trx: Db) => Promise<T>): Promise<T> {
  try {
    return await transaction(db, async (trx) => {
      const result = await work(trx)
      if (dryRun) throw new DryRun(result)
      return result
    })
  } catch (e) {
    if (e instanceof DryRun) return e.result as T
    throw e
  }
}

import type { Db } from '../db/database.ts'
import { listHealthFacts } from './account-health.repository.ts'
import type { AccountHealth } from './account-health.schemas.ts'
import { healthOf } from './account-health-problems.ts'

export type NamedAccountHealth = AccountHealth & { name: string }

/**
 * The health of every account, a page at a time (one query each), in id order: what the CLI's
 * report walks through. The problems are judged by the same rules as GET .../health.
 */
export async function* allAccountsHealth(
  db: Db,
  opts: { now: Date; reviewIntervalDays: number; pageSize?: number },
): AsyncGenerator<NamedAccountHealth[]> {
  const limit = opts.pageSize ?? 1000
  let after: string | undefined
  for (;;) {
    const facts = await listHealthFacts(db, { after, limit })
    if (facts.length > 0) yield facts.map((f) => ({ ...healthOf(f, opts), name: f.name }))
    if (facts.length < limit) return
    after = facts[facts.length - 1]!.accountId
  }
}

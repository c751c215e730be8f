import type { Expression, ExpressionBuilder, FilterObject, SqlBool } from 'kysely'

/**
 * Matches the rows whose key is one of `keys`: `(a = $1 and b = $2) or (a = $3 and b = $4) or …`,
 * for tables whose primary key has several columns (`account_id` and `id`, mostly). Each key is an
 * object from column to value, for example `whereKeys(eb, ds.map((d) => ({ account_id: d.account_id, id: d.id })))`;
 * its columns are type-checked against the tables in the query. No keys match no rows.
 *
 * A key with an undefined value throws instead of dropping that column: Kysely leaves undefined
 * out of a filter object, which would widen the match to every row sharing the other columns
 * (another account's rows, when the missing one is `account_id`).
 */
export function whereKeys<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  keys: readonly Readonly<FilterObject<DB, TB>>[],
): Expression<SqlBool> {
  for (const key of keys) {
    for (const [column, value] of Object.entries(key)) {
      if (value === undefined) throw new Error(`whereKeys: the key's ${column} is undefined`)
    }
  }
  return eb.or(keys.map((key) => eb.and(key)))
}

import { type Expression, type ExpressionBuilder, type FilterObject, sql, type SqlBool } from 'kysely'

/*
 * Lists go to the server as one array parameter each, never as one parameter per item: the
 * statement's text is then the same whatever the list's length, so it is prepared once
 * (db/prepared-statements.ts) instead of once per length.
 */

/** `column = any($1)`: the right side for a column matched against a list of text values. */
export const anyOf = (values: readonly string[]): Expression<string> => sql<string>`any(cast(${[...values]} as text[]))`

/**
 * Matches the rows whose key is one of `keys`, for tables whose primary key has several columns
 * (`account_id` and `id`, mostly): `(a, b) in (select * from unnest($1, $2))`, one array per
 * column. Each key is an object from column to value, for example
 * `whereKeys(eb, ds.map((d) => ({ account_id: d.account_id, id: d.id })))`; its columns are
 * type-checked against the tables in the query, and every key has the same columns. No keys
 * match no rows.
 *
 * A key with an undefined value throws instead of dropping that column, which would widen the
 * match to every row sharing the other columns (another account's rows, when the missing one is
 * `account_id`).
 */
export function whereKeys<DB, TB extends keyof DB>(
  // only its type is used: it ties the keys' columns to the query's tables
  _eb: ExpressionBuilder<DB, TB>,
  keys: readonly Readonly<FilterObject<DB, TB>>[],
): Expression<SqlBool> {
  if (keys.length === 0) return sql<SqlBool>`false`
  const columns = Object.keys(keys[0]!)
  for (const key of keys) {
    if (Object.keys(key).length !== columns.length) throw new Error('whereKeys: the keys have different columns')
    for (const column of columns)
      if ((key as Record<string, unknown>)[column] === undefined)
        throw new Error(`whereKeys: the key's ${column} is undefined`)
  }
  const arrays = columns.map((column) => {
    const values = keys.map((key) => (key as Record<string, unknown>)[column])
    // our key columns are text, and the slots' position an integer
    return sql`cast(${values} as ${sql.raw(typeof values[0] === 'number' ? 'int[]' : 'text[]')})`
  })
  return sql<SqlBool>`(${sql.join(columns.map((c) => sql.ref(c)))}) in (select * from unnest(${sql.join(arrays)}))`
}

import type { Db } from '../../db/database.ts'
import type { ApiKeyRow } from './api-keys.table.ts'

export const insertApiKey = (db: Db, row: { id: string; name: string; prefix: string; token_hash: string }) =>
  db.insertInto('api_keys').values(row).returningAll().executeTakeFirstOrThrow()

/** The live (not revoked) key with this hash. */
export const findLiveApiKeyByHash = (
  db: Db,
  tokenHash: string,
): Promise<Pick<ApiKeyRow, 'id' | 'last_used_at'> | undefined> =>
  db
    .selectFrom('api_keys')
    .select(['id', 'last_used_at'])
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()

/** Records use at most once a minute per key, so that reads do not turn into writes. */
export const touchApiKey = (db: Db, id: string, now: Date) =>
  db
    .updateTable('api_keys')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(now.getTime() - 60_000))]))
    .execute()

export const listApiKeys = (db: Db): Promise<ApiKeyRow[]> =>
  db.selectFrom('api_keys').selectAll().orderBy('created_at').execute()

export const revokeApiKey = (db: Db, idOrPrefix: string, now: Date) =>
  db
    .updateTable('api_keys')
    .set({ revoked_at: now })
    .where((eb) => eb.or([eb('id', '=', idOrPrefix), eb('prefix', '=', idOrPrefix)]))
    .where('revoked_at', 'is', null)
    .returning(['id', 'name'])
    .execute()

export const findApiKeyByHash = (db: Db, tokenHash: string) =>
  db.selectFrom('api_keys').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()

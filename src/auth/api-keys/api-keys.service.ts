import type { Db } from '../../db/database.ts'
import type { Clock } from '../../lib/clock.ts'
import { hashToken } from '../../lib/hash.ts'
import { newId, newSecret } from '../../lib/ids.ts'
import * as repo from './api-keys.repository.ts'

/** Platform keys start with this, so that secret scanners and people recognise them. */
const API_KEY_PREFIX = 'acpk_'

export type ApiKeyService = ReturnType<typeof createApiKeyService>

/**
 * A live key is looked up once per this many milliseconds per process, not on every request: the
 * lookup was a third of a sheet read's database work (bench/README.md). The price: a key revoked
 * by another process (`keys revoke`) keeps working here for at most this long; in the process that
 * revokes it, at once. Unknown and revoked keys are never cached.
 */
const API_KEY_CACHE_MS = 5_000
const API_KEY_CACHE_SIZE = 1_000

export function createApiKeyService({ db, clock }: { db: Db; clock: Clock }) {
  // token hash → key id and until when (process time, not the injectable clock) it counts as live
  const live = new Map<string, { id: string; until: number }>()
  return {
    /** Makes a key of 192 random bits. The raw key is returned once and stored only as its hash. */
    async create(name: string): Promise<{ id: string; name: string; prefix: string; key: string }> {
      const key = API_KEY_PREFIX + newSecret(24)
      const row = await repo.insertApiKey(db, {
        id: newId('key'),
        name,
        prefix: key.slice(0, API_KEY_PREFIX.length + 6),
        token_hash: hashToken(key),
      })
      return { id: row.id, name: row.name, prefix: row.prefix, key }
    },

    /**
     * Makes sure a key with exactly this value exists (BOOTSTRAP_API_KEY), unless it was revoked:
     * then nothing changes and the answer is `'revoked'`. A revoked key was revoked on purpose
     * (most likely it leaked), and a restart with the old environment must not bring it back;
     * the caller refuses to start instead.
     */
    async ensure(name: string, key: string): Promise<'live' | 'created' | 'revoked'> {
      const hash = hashToken(key)
      const existing = await repo.findApiKeyByHash(db, hash)
      if (existing) return existing.revoked_at ? 'revoked' : 'live'
      await repo.insertApiKey(db, { id: newId('key'), name, prefix: key.slice(0, 11), token_hash: hash })
      return 'created'
    },

    /** The key's id when the raw key is live, else undefined. */
    async authenticate(key: string): Promise<string | undefined> {
      const hash = hashToken(key)
      const hit = live.get(hash)
      if (hit && hit.until > performance.now()) return hit.id
      const row = await repo.findLiveApiKeyByHash(db, hash)
      if (!row) {
        live.delete(hash)
        return undefined
      }
      if (live.size >= API_KEY_CACHE_SIZE) live.clear()
      live.set(hash, { id: row.id, until: performance.now() + API_KEY_CACHE_MS })
      const now = clock.now()
      if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() > 60_000)
        await repo.touchApiKey(db, row.id, now)
      return row.id
    },

    list: () => repo.listApiKeys(db),

    /** Revokes by id or by the prefix shown in the list; answers what was revoked. */
    async revoke(idOrPrefix: string) {
      const revoked = await repo.revokeApiKey(db, idOrPrefix, clock.now())
      live.clear()
      return revoked
    },
  }
}

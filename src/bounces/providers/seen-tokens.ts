/**
 * Tokens already accepted, each kept until its expiry, at most `limit` of them (the oldest go
 * first). In memory: each process keeps its own, and a restart forgets them.
 */
export interface SeenTokens {
  /** True the first time `token` is offered before its expiry, false when it was seen. */
  claim(token: string, expiresAtMs: number, nowMs: number): boolean
}

/** An empty memory of at most `limit` tokens. */
export function createSeenTokens(limit: number): SeenTokens {
  // Map keeps insertion order, which is acceptance order: the first entries are the oldest.
  const seen = new Map<string, number>()
  return {
    claim(token, expiresAtMs, nowMs) {
      for (const [old, expiry] of seen) {
        if (expiry > nowMs) break
        seen.delete(old)
      }
      const expiry = seen.get(token)
      if (expiry !== undefined && expiry > nowMs) return false
      seen.delete(token)
      seen.set(token, expiresAtMs)
      if (seen.size > limit) seen.delete(seen.keys().next().value!)
      return true
    },
  }
}

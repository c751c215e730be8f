import { useCallback, useEffect, useRef, useState } from 'react'

import { ApiError } from './api/client.ts'
import { getSheet, type SheetAnswer } from './api/contacts.ts'
import type { ContactSheet } from './api/types.ts'

export interface SheetValue {
  sheet: ContactSheet | null
  loadError: ApiError | null
  /**
   * How many times the sheet was read from the server (first load, back in the tab, after a
   * conflict): what else the page shows of the account (its users) is read again with it.
   */
  reads: number
  /**
   * Makes one change: `change` gets the ETag of the sheet on screen (sent as If-Match) and answers
   * the new sheet. When someone else changed it meanwhile (412), the current sheet is loaded; when
   * they changed other slots only, the change is made again on it, else the problem is passed on
   * and the page shows what is there now.
   */
  write(change: (etag: string | undefined) => Promise<SheetAnswer>): Promise<void>
}

/** The problems that say the page is behind the server. */
const STALE = new Set(['version-mismatch', 'user-not-active'])

/** The account's contact sheet, kept with the ETag of the version on screen. */
export function useSheet(accountId: string): SheetValue {
  const [sheet, setSheet] = useState<ContactSheet | null>(null)
  const [loadError, setLoadError] = useState<ApiError | null>(null)
  const etag = useRef<string | undefined>(undefined)
  const [reads, setReads] = useState(0)
  // a read that was under way when a change was made answers the sheet from before the change:
  // it is dropped, or the page would show the old sheet and its old ETag (a needless 412 next)
  const changes = useRef(0)

  const apply = useCallback((a: SheetAnswer) => {
    etag.current = a.etag ?? undefined
    setSheet(a.data)
  }, [])

  const reload = useCallback(async () => {
    const before = changes.current
    const answer = await getSheet(accountId)
    if (changes.current !== before) return
    apply(answer)
    setReads((n) => n + 1)
  }, [accountId, apply])

  useEffect(() => {
    reload().catch((e: unknown) => setLoadError(e instanceof ApiError ? e : null))
  }, [reload])

  // back in the tab after a while: what others changed meanwhile (another admin, the host product,
  // a security contact who verified their address) shows without a reload, and a save made next
  // does not meet a needless conflict
  const returning = useRef<Promise<void> | null>(null)
  useEffect(() => {
    // coming back fires both events: one read serves them (and one read of the users with it)
    const again = () => {
      if (document.visibilityState !== 'visible' || returning.current) return
      returning.current = reload()
        .catch(() => undefined)
        .finally(() => {
          returning.current = null
        })
    }
    window.addEventListener('focus', again)
    document.addEventListener('visibilitychange', again)
    return () => {
      window.removeEventListener('focus', again)
      document.removeEventListener('visibilitychange', again)
    }
  }, [reload])

  const write = useCallback(
    async (change: (etag: string | undefined) => Promise<SheetAnswer>) => {
      changes.current += 1
      for (let attempt = 1; ; attempt++) {
        try {
          apply(await change(etag.current))
          return
        } catch (e) {
          if (!(e instanceof ApiError) || !STALE.has(e.code)) throw e
          // someone changed the sheet, or deactivated the user chosen: the page shows what is there now
          await reload().catch(() => undefined)
          // only other slots changed (the server says none of what this change writes did): it is
          // made again on the sheet as it is now, once; a real conflict is the caller's to show
          const othersOnly = e.code === 'version-mismatch' && e.problem.conflicts?.length === 0
          if (!othersOnly || attempt > 1) throw e
        }
      }
    },
    [apply, reload],
  )

  return { sheet, loadError, reads, write }
}

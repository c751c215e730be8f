import { useCallback, useEffect, useRef, useState } from 'react'

import { ApiError } from './api/client.ts'
import { getSheet, type SheetAnswer } from './api/contacts.ts'
import type { ContactSheet } from './api/types.ts'

export interface SheetValue {
  sheet: ContactSheet | null
  loadError: ApiError | null
  /**
   * Makes one change: `change` gets the ETag of the sheet on screen (sent as If-Match) and answers
   * the new sheet. When someone else changed it meanwhile (412), the current sheet is loaded
   * before the problem is passed on, so the page shows what is there now.
   */
  write(change: (etag: string | undefined) => Promise<SheetAnswer>): Promise<void>
}

/** The account's contact sheet, kept with the ETag of the version on screen. */
export function useSheet(accountId: string): SheetValue {
  const [sheet, setSheet] = useState<ContactSheet | null>(null)
  const [loadError, setLoadError] = useState<ApiError | null>(null)
  const etag = useRef<string | undefined>(undefined)

  const apply = useCallback((a: SheetAnswer) => {
    etag.current = a.etag ?? undefined
    setSheet(a.data)
  }, [])

  const reload = useCallback(async () => apply(await getSheet(accountId)), [accountId, apply])

  useEffect(() => {
    reload().catch((e: unknown) => setLoadError(e instanceof ApiError ? e : null))
  }, [reload])

  const write = useCallback(
    async (change: (etag: string | undefined) => Promise<SheetAnswer>) => {
      try {
        apply(await change(etag.current))
      } catch (e) {
        if (e instanceof ApiError && e.code === 'version-mismatch') await reload().catch(() => undefined)
        throw e
      }
    },
    [apply, reload],
  )

  return { sheet, loadError, write }
}

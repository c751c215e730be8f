import { useEffect, useState } from 'react'

import { ApiError } from '../api/client.ts'
import { listNotifications, resendNotification } from '../api/mail.ts'
import type { Notification } from '../api/types.ts'
import { useLocale, useSession } from '../page-context.ts'
import { problemText } from '../problem-text.ts'
import { useSave } from '../use-save.ts'
import { MailEntry } from './MailEntry.tsx'
import { Section } from './Section.tsx'

interface Props {
  /** Changes whenever the sheet does or a test was sent: the newest mail is read again. */
  refreshKey: string
}

const PAGE = 10
const OPEN = new Set(['queued', 'sending', 'retrying'])

/** How many deliveries a resend queued: new recipients, and failed ones sent once more. */
function queuedBy(before: Notification, after: Notification): number {
  const was = new Map(before.deliveries.map((d) => [d.id, d.status]))
  return after.deliveries.filter((d) => OPEN.has(d.status) && !OPEN.has(was.get(d.id) ?? '')).length
}

/**
 * The account's mail (docs/BOUNCES.md): the latest notifications, newest first, a page at a time,
 * each with what became of it for each recipient; admins can send one again to the current contacts.
 */
export function MailHistory({ refreshKey }: Props) {
  const { t } = useLocale()
  const { accountId: a, canEdit } = useSession()
  const saver = useSave()
  const [items, setItems] = useState<Notification[]>([])
  const [next, setNext] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)
  const [loadError, setLoadError] = useState<ApiError | null>(null)
  // after "Load more", focus goes to the first mail it brought (the button may be gone)
  const [focusTo, setFocusTo] = useState<string | null>(null)

  useEffect(() => {
    let live = true
    listNotifications(a, null, PAGE).then(
      (p) => {
        if (!live) return
        setItems(p.data)
        setNext(p.nextCursor)
        setLoadError(null)
      },
      (e: unknown) => live && setLoadError(e instanceof ApiError ? e : null),
    )
    return () => {
      live = false
    }
  }, [a, refreshKey])

  useEffect(() => {
    if (!focusTo) return
    document.getElementById(focusTo)?.focus()
    setFocusTo(null)
  }, [focusTo, items])

  const more = async () => {
    if (!next || loading) return
    setLoading(true)
    try {
      const p = await listNotifications(a, next, PAGE)
      const fresh = p.data.filter((n) => !items.some((o) => o.id === n.id))
      setItems((old) => [...old, ...fresh])
      setNext(p.nextCursor)
      setLoadError(null)
      if (fresh[0]) setFocusTo(`mail-${fresh[0].id}`)
    } catch (e) {
      setLoadError(e instanceof ApiError ? e : null)
    } finally {
      setLoading(false)
    }
  }

  const resend = (n: Notification) => {
    let count = 0
    const send = async () => {
      const now = await resendNotification(a, n.id)
      count = queuedBy(n, now)
      setItems((old) => old.map((o) => (o.id === now.id ? now : o)))
    }
    if (!saver.busy) void saver.run(n.id, send, (w) => w.resentTo(count))
  }

  return (
    <Section id="mail-history-section" title={t.mailHistoryTitle} help={t.mailHistoryHelp}>
      {loadError ? <p className="field-error">{problemText(loadError, t)}</p> : null}
      {items.length === 0 ? (
        loadError ? null : (
          <p className="empty">{t.mailHistoryEmpty}</p>
        )
      ) : (
        <ol className="mail-list">
          {items.map((n) => (
            <MailEntry
              key={n.id}
              n={n}
              saver={saver}
              // the platform's own notifications can be sent again; tests and the service's mail cannot
              onResend={canEdit && n.kind === 'notification' && !n.isTest ? () => resend(n) : undefined}
            />
          ))}
        </ol>
      )}
      {next ? (
        <button
          type="button"
          className="secondary"
          onClick={() => void more()}
          aria-busy={loading || undefined}
          // the change history has a "Load more" too
          aria-label={`${t.loadMore}: ${t.mailHistoryTitle}`}
        >
          {t.loadMore}
        </button>
      ) : null}
    </Section>
  )
}

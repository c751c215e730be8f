import { useEffect, useState } from 'react'

import { listAuditEvents } from '../api/account.ts'
import type { AuditEvent, User } from '../api/types.ts'
import { formatDateTime } from '../i18n.ts'
import { useLocale, useSession } from '../page-context.ts'
import { actorName } from '../problem-text.ts'
import { changeLines, subjectOf } from './history-format.ts'
import { Section } from './Section.tsx'

interface Props {
  users: readonly User[]
  /** Changes whenever the sheet does: the newest events are read again. */
  refreshKey: string
}

const PAGE = 20

/** The account's audit events, newest first, a page at a time ("Load more" follows nextCursor). */
export function History({ users, refreshKey }: Props) {
  const { t, locale } = useLocale()
  const { accountId: a } = useSession()
  const [events, setEvents] = useState<AuditEvent[]>([])
  const [next, setNext] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)
  const [focusRow, setFocusRow] = useState<string | null>(null)
  useEffect(() => {
    if (focusRow === null) return
    document.getElementById(`history-${focusRow}`)?.focus()
    setFocusRow(null)
  }, [focusRow, events])

  useEffect(() => {
    let live = true
    listAuditEvents(a, null, PAGE).then(
      (p) => {
        if (!live) return
        setEvents(p.data)
        setNext(p.nextCursor)
      },
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [a, refreshKey])

  const more = async () => {
    if (!next || loading) return
    setLoading(true)
    try {
      const p = await listAuditEvents(a, next, PAGE)
      setEvents((old) => [...old, ...p.data.filter((e) => !old.some((o) => o.id === e.id))])
      setNext(p.nextCursor)
      // the button is gone after the last page: focus goes to the first row it brought, else stays
      if (!p.nextCursor && p.data[0]) setFocusRow(p.data[0].id)
    } finally {
      setLoading(false)
    }
  }

  return (
    <Section id="history-section" title={t.historyTitle}>
      {events.length === 0 ? (
        <p className="empty">{t.historyEmpty}</p>
      ) : (
        <table className="history">
          <thead>
            <tr>
              <th scope="col">{t.colWhen}</th>
              <th scope="col">{t.colWho}</th>
              <th scope="col">{t.colWhat}</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} id={`history-${e.id}`} tabIndex={-1}>
                <td className="when">
                  <time dateTime={e.at}>{formatDateTime(e.at, locale)}</time>
                </td>
                <td>{actorName(e.actor, t, users.find((u) => u.id === e.actor.id)?.name)}</td>
                <td>
                  <span className="action">
                    {t.actions[e.action]}
                    {subjectOf(e, users) ? `: ${subjectOf(e, users)}` : ''}
                  </span>
                  {changeLines(e, locale, t).map((l) => (
                    <span key={l} className="change">
                      {l}
                    </span>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next ? (
        <button type="button" className="secondary" onClick={() => void more()} aria-busy={loading || undefined}>
          {t.loadMore}
        </button>
      ) : null}
    </Section>
  )
}

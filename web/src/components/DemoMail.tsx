import { useCallback, useEffect, useState } from 'react'

import { getDemoMail } from '../api/account.ts'
import type { DemoMailList } from '../api/types.ts'
import { formatDateTime } from '../i18n.ts'
import { useLocale } from '../page-context.ts'
import { Section } from './Section.tsx'

interface Props {
  /** Changes when something may have been sent: the list is read again. */
  refreshKey: string
}

/** Demo mode (no SMTP_URL): the mail "sent", as the .eml files the service wrote (docs/PRODUCT.md, "Email"). */
export function DemoMail({ refreshKey }: Props) {
  const { t, locale } = useLocale()
  const [mail, setMail] = useState<DemoMailList['data'] | null>(null)
  const load = useCallback(
    () =>
      getDemoMail().then(
        (m) => setMail(m.data),
        () => undefined,
      ),
    [],
  )
  useEffect(() => {
    void load()
    // the worker sends a moment after the change: look again shortly
    const again = setTimeout(() => void load(), 1500)
    return () => clearTimeout(again)
  }, [load, refreshKey])

  return (
    <Section id="demo-mail-section" title={t.demoTitle} help={t.demoHelp}>
      {mail && mail.length === 0 ? <p className="empty">{t.demoEmpty}</p> : null}
      {mail && mail.length > 0 ? (
        <table className="mail">
          <thead>
            <tr>
              <th scope="col">{t.colDate}</th>
              <th scope="col">{t.colTo}</th>
              <th scope="col">{t.colSubject}</th>
              <th scope="col">{t.colFile}</th>
            </tr>
          </thead>
          <tbody>
            {mail.map((m) => (
              <tr key={m.file}>
                <td className="when">
                  <time dateTime={m.date}>{formatDateTime(m.date, locale)}</time>
                </td>
                <td>{m.to}</td>
                <td>{m.subject}</td>
                <td className="file">{m.file}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <button type="button" className="secondary" onClick={() => void load()}>
        {t.refresh}
      </button>
    </Section>
  )
}

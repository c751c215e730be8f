import { useEffect, useState } from 'react'

import { previewRouting, sendTest } from '../api/account.ts'
import type { Recipient, RecipientsPreview, SendableCategory, SlotName } from '../api/types.ts'
import { CATEGORY_LABELS, listJoin, type Locale, SLOT_NOUNS, type Strings } from '../i18n.ts'
import { useLocale, useSession } from '../page-context.ts'
import { useSave } from '../use-save.ts'
import { FieldError } from './FieldError.tsx'
import { SaveStatus } from './SaveStatus.tsx'
import { Section } from './Section.tsx'

interface Props {
  /** Changes whenever the sheet does: who receives what is read again. */
  refreshKey: string
  /** Called after a test message was sent (the demo mailbox has something new). */
  onSent(): void
  /** An outside security address still waiting for verification, which receives nothing yet. */
  pendingSecurity: string | null
}

/**
 * Why a recipient was chosen: the slots, in words (`super_admin` is the last fallback), each one
 * held in an ancestor account with that account's name ("billing contact from Pohjola Group").
 */
function reasons(r: Recipient, locale: Locale, t: Strings): string {
  const words = r.slots.map((s) => {
    const noun = s in SLOT_NOUNS[locale] ? SLOT_NOUNS[locale][s as SlotName] : s === 'super_admin' ? t.superAdmin : s
    const from = r.inherited?.find((i) => i.slot === s)
    return from ? `${noun} ${t.tree.via(from.fromAccountName)}` : noun
  })
  return listJoin(words, locale)
}

/** Who receives each category of message now, and why (docs/PRODUCT.md, "Routing: who receives what"), with a test message to each. */
export function Recipients({ refreshKey, onSent, pendingSecurity }: Props) {
  const { t, locale } = useLocale()
  const { accountId: a, canEdit } = useSession()
  const saver = useSave()
  const [previews, setPreviews] = useState<RecipientsPreview[]>([])

  useEffect(() => {
    let live = true
    previewRouting(a).then(
      (all) => live && setPreviews(all.data),
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [a, refreshKey])

  const test = (c: SendableCategory) => {
    let count = 0
    const send = async () => {
      count = (await sendTest(a, c)).recipients.length
      onSent()
    }
    return saver.run(c, send, (w) => w.testSent(count))
  }

  return (
    <Section id="recipients-section" title={t.recipientsTitle} help={t.recipientsHelp}>
      <table className="recipients">
        <thead>
          <tr>
            <th scope="col">{t.colMessage}</th>
            <th scope="col">{t.colRecipients}</th>
            {canEdit ? <th scope="col">{t.colTest}</th> : null}
          </tr>
        </thead>
        <tbody>
          {previews.map((p) => {
            const c = p.category
            return (
              <tr key={c}>
                <th scope="row">{CATEGORY_LABELS[locale][c]}</th>
                <td>
                  {p.recipients.length === 0 ? <p className="note">{t.nobody}</p> : null}
                  <ul className="people">
                    {p.recipients.map((r) => (
                      <li key={r.email}>
                        <span className="name">{r.name ?? r.email}</span>{' '}
                        <span className="email">{r.name ? r.email : ''}</span>{' '}
                        <span className="why">({reasons(r, locale, t)})</span>
                      </li>
                    ))}
                  </ul>
                  {p.fallback ? (
                    <p className="note">{p.fallback === 'primary' ? t.fallbackPrimary : t.fallbackSuperAdmins}</p>
                  ) : null}
                  {c === 'security' && pendingSecurity ? (
                    <p className="note">{t.securityWhenVerified(pendingSecurity)}</p>
                  ) : null}
                </td>
                {canEdit ? (
                  <td className="test">
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => void test(c)}
                      disabled={p.recipients.length === 0}
                      aria-label={`${t.sendTest}: ${CATEGORY_LABELS[locale][c]}`}
                    >
                      {t.sendTest}
                    </button>
                    <SaveStatus text={saver.status(t, c)} />
                    <FieldError id={`test-${c}-error`} error={saver.errorFor(c)} />
                  </td>
                ) : null}
              </tr>
            )
          })}
        </tbody>
      </table>
    </Section>
  )
}

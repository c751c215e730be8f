import type { Delivery, Notification, NotificationRecipient, SlotName } from '../api/types.ts'
import { categoryLabel, formatDateTime, listJoin, type Locale, SLOT_LABELS, type Strings } from '../i18n.ts'
import { useLocale } from '../page-context.ts'
import type { Saver } from '../use-save.ts'
import { FieldError } from './FieldError.tsx'
import { SaveStatus } from './SaveStatus.tsx'

interface Props {
  n: Notification
  saver: Saver
  /** "Send again to the current contacts", for a notification that can be sent again by this reader. */
  onResend: (() => void) | undefined
}

/** The slots that chose a recipient, as labels (`super_admin` is the last fallback). */
function roles(r: NotificationRecipient, locale: Locale, t: Strings): string {
  const words = r.slots.map((s) =>
    s in SLOT_LABELS[locale] ? SLOT_LABELS[locale][s as SlotName] : s === 'super_admin' ? t.roles.super_admin : s,
  )
  return t.recipientRoles(listJoin(words, locale), words.length)
}

/** What became of one delivery, in words; a failure says why. */
function statusText(d: Delivery, t: Strings): string {
  const words = t.deliveryStatus[d.status] ?? d.status
  const why = d.status === 'bounced' || d.status === 'failed' || d.status === 'retrying' ? d.lastError : null
  return why ? `${words}: ${why}` : words
}

/** One notification of the mail history: what it was, when, and for each recipient why and how it went. */
export function MailEntry({ n, saver, onResend }: Props) {
  const { t, locale } = useLocale()
  const byAddress = new Map(n.deliveries.map((d) => [d.recipient.toLowerCase(), d]))
  // a fallback names the bounced address; older rows only the bounced delivery's id
  const inPlaceOf = (r: NotificationRecipient, d: Delivery | undefined) =>
    r.fallbackFor ?? (d?.fallbackFor ? n.deliveries.find((x) => x.id === d.fallbackFor)?.recipient : undefined)

  return (
    <li className="mail-entry">
      <h3 id={`mail-${n.id}`} tabIndex={-1}>
        {n.subject}
      </h3>
      <p className="mail-meta">
        <span className="category">{categoryLabel(n.category, locale, t)}</span>
        {n.isTest ? <span className="badge test">{t.testMail}</span> : null}
        <span className="sent">
          {t.sentAt} <time dateTime={n.createdAt}>{formatDateTime(n.createdAt, locale)}</time>
        </span>
      </p>
      <ul className="mail-recipients">
        {n.recipients.map((r) => {
          const d = byAddress.get(r.email.toLowerCase())
          const instead = inPlaceOf(r, d)
          return (
            <li key={r.email}>
              <span className="who">
                {r.name ? <span className="name">{r.name}</span> : null}
                <span className="address">{r.email}</span>
              </span>
              {r.slots.length > 0 ? <span className="why">{roles(r, locale, t)}</span> : null}
              {instead ? <span className="instead">{t.inPlaceOf(instead)}</span> : null}
              {d ? <span className={`delivery-status ${d.status}`}>{statusText(d, t)}</span> : null}
            </li>
          )
        })}
      </ul>
      {onResend ? (
        <div className="mail-actions">
          <button
            type="button"
            className="secondary"
            onClick={onResend}
            aria-busy={saver.busy === n.id || undefined}
            aria-label={`${t.resendMail}: ${n.subject}`}
          >
            {t.resendMail}
          </button>
          <SaveStatus text={saver.status(t, n.id)} />
          <FieldError id={`mail-${n.id}-error`} error={saver.errorFor(n.id)} />
        </div>
      ) : null}
    </li>
  )
}

import { type FormEvent, useEffect, useState } from 'react'

import { clearSlot, clearUndeliverable, getPendingVerification, resendVerification, setSlot } from '../api/contacts.ts'
import type { ContactSheet, User } from '../api/types.ts'
import { formatDateTime, SLOT_LABELS } from '../i18n.ts'
import { useLocale, useSession } from '../page-context.ts'
import { SECURITY_EMAIL_FIELD_ID, SLOT_FIELD_IDS } from '../slot-fields.ts'
import type { Saver } from '../use-save.ts'
import type { SheetValue } from '../use-sheet.ts'
import { FieldError, invalidProps } from './FieldError.tsx'
import { asUser } from './PrimaryContact.tsx'
import { clearKey, Undeliverable } from './Undeliverable.tsx'
import { UserSelect } from './UserSelect.tsx'

interface Props {
  sheet: ContactSheet
  users: readonly User[]
  write: SheetValue['write']
  saver: Saver
  /** The account's `allowedEmailDomains`, when it limits outside addresses. */
  domains: readonly string[] | null
}

/**
 * The security contact: a user, or a typed address of someone who is not a user (docs/PRODUCT.md,
 * "Outside security addresses"), which is pending until its owner opens the link.
 */
export function SecurityContact({ sheet, users, write, saver, domains }: Props) {
  const { t, locale } = useLocale()
  const { accountId: a, canEdit } = useSession()
  const current = sheet.security
  const external = current?.type === 'email' ? current : null
  const [kind, setKind] = useState<'user' | 'email'>(external ? 'email' : 'user')
  const [email, setEmail] = useState(external?.email ?? '')
  useEffect(() => setEmail(external?.email ?? ''), [external?.email])
  // whenever the stored contact changes, the editor shows it as the server stored it: an address
  // typed that is a user's is stored as that user, and then shows as the user, not as an address
  // left unsaved (a choice not yet saved stays while other slots change)
  const stored = current === null ? '' : current.type === 'email' ? `email:${current.email}` : `user:${current.userId}`
  useEffect(() => setKind(stored.startsWith('email:') ? 'email' : 'user'), [stored])

  const emailError = saver.errorFor('security-email')
  const emailDirty = email.trim() !== '' && email.trim().toLowerCase() !== (external?.email.toLowerCase() ?? '')
  const saveEmail = (e: FormEvent) => {
    e.preventDefault()
    if (emailDirty && !saver.busy)
      void saver.run('security-email', () => write((etag) => setSlot(a, 'security', { email: email.trim() }, etag)))
  }
  const clear = async () => {
    // the address and its Remove go away: focus goes to the choice of a user that takes their place
    if (await saver.run('security-remove', () => write((etag) => clearSlot(a, 'security', etag)))) {
      // set here too, not left to the effect that follows the sheet: the select is then there when focus goes to it
      setKind('user')
      setFocusTo(SLOT_FIELD_IDS.security)
    }
  }
  const [focusTo, setFocusTo] = useState<string | null>(null)
  useEffect(() => {
    if (focusTo === null) return
    document.getElementById(focusTo)?.focus()
    setFocusTo(null)
  }, [focusTo, kind])
  // when the pending address's link was sent and until when it works: read again after a resend
  const [link, setLink] = useState<{ sentAt: string | null; expiresAt: string | null } | null>(null)
  const [resends, setResends] = useState(0)
  const pendingEmail = external?.verification === 'pending' ? external.email : null
  useEffect(() => {
    setLink(null)
    if (pendingEmail === null) return
    let live = true
    getPendingVerification(a).then(
      (l) => live && setLink(l),
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [a, pendingEmail, resends])
  const resend = async () => {
    if (
      await saver.run(
        'security-resend',
        () => resendVerification(a),
        (w) => w.resent,
      )
    )
      setResends((n) => n + 1)
  }
  const hintId = domains && domains.length > 0 ? 'security-email-hint' : undefined
  const mailWorks = (email: string) => write(() => clearUndeliverable(a, email))
  // an outside address whose mail does not arrive: cleared, it must verify itself again
  const markId = 'security-email-undeliverable'
  const clearExternal = async () => {
    if (!external) return false
    const email = external.email
    const ok = await saver.run(
      clearKey(markId),
      () => mailWorks(email),
      (w) => w.mailWorksPending(email),
    )
    // the mark and its button are gone: focus goes to what the address needs next
    if (ok) document.getElementById('security-resend')?.focus()
    return ok
  }

  return (
    <fieldset className="field security">
      <legend>{SLOT_LABELS[locale].security}</legend>
      <p className="help">{t.securityHelp}</p>
      {external ? (
        <div className="current-email">
          <span className="address">{external.email}</span>{' '}
          <span className={`badge ${external.verification}`}>
            {external.verification === 'pending' ? t.pending : t.verified}
          </span>
          {external.verification === 'pending' ? <p className="help">{t.pendingHelp}</p> : null}
          {link?.sentAt && link.expiresAt ? (
            <p className="help" id="security-link">
              {(Date.parse(link.expiresAt) > Date.now() ? t.linkSent : t.linkExpired)(
                formatDateTime(link.sentAt, locale),
                formatDateTime(link.expiresAt, locale),
              )}
            </p>
          ) : null}
          {external.undeliverable ? (
            <Undeliverable
              id={markId}
              email={external.email}
              mark={external.undeliverable}
              saver={saver}
              onClear={clearExternal}
            />
          ) : null}
          {canEdit ? (
            <div className="field-row">
              {external.verification === 'pending' ? (
                <button type="button" id="security-resend" className="secondary" onClick={() => void resend()}>
                  {t.resend}
                </button>
              ) : null}
              <button
                type="button"
                className="secondary"
                onClick={() => void clear()}
                aria-label={`${t.remove}: ${SLOT_LABELS[locale].security}`}
              >
                {t.remove}
              </button>
            </div>
          ) : null}
          <FieldError
            id="security-resend-error"
            error={saver.errorFor('security-resend') ?? saver.errorFor('security-remove')}
          />
        </div>
      ) : null}
      {canEdit ? (
        <div className="kind" role="radiogroup" aria-label={t.securityKind}>
          {(['user', 'email'] as const).map((k) => (
            <label key={k} className="radio">
              <input type="radio" name="security-kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
              {k === 'user' ? t.securityKindUser : t.securityKindEmail}
            </label>
          ))}
        </div>
      ) : null}
      {kind === 'user' ? (
        <UserSelect
          id={SLOT_FIELD_IDS.security}
          label={SLOT_LABELS[locale].security}
          hideLabel
          users={users}
          current={asUser(current)}
          saver={saver}
          onSave={(userId) => write((etag) => setSlot(a, 'security', { userId }, etag))}
          onRemove={() => write((etag) => clearSlot(a, 'security', etag))}
          onMailWorks={mailWorks}
        />
      ) : (
        <div className="field">
          <label htmlFor={SECURITY_EMAIL_FIELD_ID}>{t.emailAddress}</label>
          {hintId ? (
            <p id={hintId} className="hint">
              {t.allowedDomains(domains!.join(', '))}
            </p>
          ) : null}
          <form className="field-row" onSubmit={saveEmail} noValidate>
            <input
              id={SECURITY_EMAIL_FIELD_ID}
              type="email"
              autoComplete="off"
              spellCheck={false}
              value={email}
              disabled={!canEdit}
              onChange={(e) => setEmail(e.target.value)}
              {...invalidProps(emailError, 'security-email-error', hintId)}
            />
            {canEdit && emailDirty ? (
              <button type="submit" className="primary" aria-label={`${t.save}: ${t.emailAddress}`}>
                {t.save}
              </button>
            ) : null}
          </form>
          <FieldError id="security-email-error" error={emailError} field="email" domains={domains} />
        </div>
      )}
    </fieldset>
  )
}

import type { MouseEvent, ReactNode } from 'react'

import type { AccountHealth } from '../api/types.ts'
import { useLocale, useSession } from '../page-context.ts'
import { addressOf } from '../shown-account.ts'

interface Props {
  accountId: string
  children: ReactNode
  /** Called after the switch (the switcher closes). */
  onShown?: () => void
}

/**
 * A link to an account's page. A real link, so that it opens in a new tab too; a plain click
 * switches in place, and the address follows.
 */
export function AccountLink({ accountId, children, onShown }: Props) {
  const { session, accountId: shown, showAccount } = useSession()
  const open = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
    e.preventDefault()
    showAccount(accountId)
    onShown?.()
  }
  return (
    <a
      href={addressOf(accountId, session.accountId)}
      onClick={open}
      aria-current={accountId === shown ? 'page' : undefined}
    >
      {children}
    </a>
  )
}

/** An account's health in a word and a sign, never by colour alone: "✓ OK", "⚠ 2 problems". */
export function HealthMark({ health }: { health: AccountHealth }) {
  const { t } = useLocale()
  return health.ok ? (
    <span className="health-mark ok">
      <span aria-hidden="true">✓ </span>
      {t.tree.healthOk}
    </span>
  ) : (
    <span className="health-mark warn">
      <span aria-hidden="true">⚠ </span>
      {t.tree.problems(health.problems.length)}
    </span>
  )
}

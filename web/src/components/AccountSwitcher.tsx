import { type KeyboardEvent, useEffect, useRef, useState } from 'react'

import { useLocale, useSession } from '../page-context.ts'
import { buildTree, type TreeNode } from '../shown-account.ts'
import { AccountLink, HealthMark } from './AccountLink.tsx'

const PANEL_ID = 'account-switcher'

/**
 * For a parent's admins: the shown account's name is a button that opens the accounts they
 * manage, their own first, the ones below nested under their parents, each with its health.
 * The list opens below the top bar, in the page's flow, so that it fits any width.
 */
export function AccountSwitcher() {
  const { t } = useLocale()
  const { session, accountName, descendants } = useSession()
  const [open, setOpen] = useState(false)
  const button = useRef<HTMLButtonElement>(null)
  const panel = useRef<HTMLElement>(null)

  useEffect(() => {
    if (open) panel.current?.querySelector('a')?.focus()
  }, [open])

  const close = () => {
    setOpen(false)
    button.current?.focus()
  }
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') close()
  }
  const nodes = (list: TreeNode[]) => (
    <ul>
      {list.map((n) => (
        <li key={n.account.accountId}>
          <AccountLink accountId={n.account.accountId} onShown={() => setOpen(false)}>
            {n.account.name}
          </AccountLink>{' '}
          <HealthMark health={n.account.health} />
          {n.children.length > 0 ? nodes(n.children) : null}
        </li>
      ))}
    </ul>
  )

  return (
    <>
      <button
        type="button"
        ref={button}
        className="account-name account-switch"
        aria-expanded={open}
        aria-controls={PANEL_ID}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="visually-hidden">{t.tree.switchAccount}: </span>
        {accountName}
        <span aria-hidden="true"> ▾</span>
      </button>
      {open ? (
        <nav id={PANEL_ID} ref={panel} className="account-switcher" aria-label={t.tree.switchAccount} onKeyDown={onKey}>
          <ul>
            <li>
              <AccountLink accountId={session.accountId} onShown={() => setOpen(false)}>
                {session.accountName}
              </AccountLink>{' '}
              <span className="note">({t.tree.yourAccount})</span>
              {nodes(buildTree(descendants, session.accountId))}
            </li>
          </ul>
        </nav>
      ) : null}
    </>
  )
}

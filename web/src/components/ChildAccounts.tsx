import { useLocale, useSession } from '../page-context.ts'
import { AccountLink, HealthMark } from './AccountLink.tsx'
import { Section } from './Section.tsx'

/**
 * The accounts directly under the one shown, which the signed-in admin manages too: each with its
 * health in words and a link to its page (the switcher in the header lists the deeper ones).
 */
export function ChildAccounts() {
  const { t } = useLocale()
  const { accountId, descendants } = useSession()
  const children = descendants
    .filter((d) => d.parentAccountId === accountId)
    .sort((a, b) => a.name.localeCompare(b.name) || a.accountId.localeCompare(b.accountId))
  if (children.length === 0) return null
  return (
    <Section id="children-section" title={t.tree.accountsBelow} help={t.tree.accountsBelowHelp}>
      <ul className="child-accounts">
        {children.map((d) => (
          <li key={d.accountId}>
            <AccountLink accountId={d.accountId}>{d.name}</AccountLink> <HealthMark health={d.health} />
            {d.health.ok ? null : (
              <ul className="child-problems">
                {d.health.problems.map((p) => (
                  <li key={p.code}>{t.health ? t.health[p.code] : p.message}</li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </Section>
  )
}

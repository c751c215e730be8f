import { useEffect, useState } from 'react'

import { getHealth } from '../api/account.ts'
import type { AccountHealth } from '../api/types.ts'
import { useLocale, useSession } from '../page-context.ts'
import { Section } from './Section.tsx'

interface Props {
  /** Changes whenever the sheet does: the warnings are read again. */
  refreshKey: string
}

/** The account's health (docs/PRODUCT.md, "Account health"): what is missing or not working in its contacts. */
export function Health({ refreshKey }: Props) {
  const { t } = useLocale()
  const { accountId } = useSession()
  const [health, setHealth] = useState<AccountHealth | null>(null)
  useEffect(() => {
    let live = true
    getHealth(accountId).then(
      (h) => live && setHealth(h),
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [accountId, refreshKey])

  if (!health) return null
  return (
    <Section id="health-section" title={t.healthTitle} className={health.ok ? 'health ok' : 'health warn'}>
      {health.ok ? (
        <p className="ok-text">{t.healthOk}</p>
      ) : (
        <ul className="warnings">
          {health.problems.map((p) => (
            <li key={p.code}>{t.health ? t.health[p.code] : p.message}</li>
          ))}
        </ul>
      )}
    </Section>
  )
}

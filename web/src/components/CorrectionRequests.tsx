import { useEffect, useState } from 'react'

import { ApiError } from '../api/client.ts'
import { dismissCorrection, listOpenCorrections } from '../api/corrections.ts'
import type { ContactSheet, CorrectionRequest } from '../api/types.ts'
import { focusFirst } from '../focus-first.ts'
import { useLocale, useSession } from '../page-context.ts'
import { useSave } from '../use-save.ts'
import { CorrectionEntry, entryId } from './CorrectionEntry.tsx'
import { PAGE_TITLE_ID } from './PageHeader.tsx'
import { SaveStatus } from './SaveStatus.tsx'
import { Section } from './Section.tsx'

interface Props {
  sheet: ContactSheet
  /** A request was dismissed (and audited): the change history is read again. */
  onDismissed(): void
}

/**
 * The banner of open correction requests (docs/CORRECTIONS.md): what recipients said through a
 * mail's "Not the right person?" link, until an admin dismisses it. Nothing shows when none is open.
 */
export function CorrectionRequests({ sheet, onDismissed }: Props) {
  const { t } = useLocale()
  const { accountId: a, canEdit } = useSession()
  const saver = useSave()
  const [items, setItems] = useState<CorrectionRequest[]>([])
  // the route has the last word on who may dismiss: after a 403 the buttons go
  const [refused, setRefused] = useState(false)
  // where focus goes once an entry has gone: the first of these ids that is on the page
  const [focusTo, setFocusTo] = useState<string[]>([])

  useEffect(() => {
    let live = true
    listOpenCorrections(a).then(
      (p) => live && setItems(p.data),
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [a])

  useEffect(() => {
    if (focusTo.length === 0) return
    focusFirst(focusTo)
    setFocusTo([])
  }, [focusTo, items])

  const dismiss = async (c: CorrectionRequest) => {
    if (saver.busy) return
    const i = items.findIndex((o) => o.id === c.id)
    // the next entry, else the one before, else the top of the page (the banner goes with the last)
    const then = [items[i + 1], items[i - 1]].filter((o) => o !== undefined).map(entryId)
    const send = async () => {
      try {
        await dismissCorrection(a, c.id)
      } catch (e) {
        // the route has the last word on who may dismiss: after a 403 the buttons go, and focus
        // goes to the entry, next to which the problem is said
        if (e instanceof ApiError && e.status === 403) {
          setRefused(true)
          setFocusTo([entryId(c)])
        }
        throw e
      }
    }
    if (!(await saver.run(c.id, send, (w) => w.correctionDismissed(c.email)))) return
    setItems((old) => old.filter((o) => o.id !== c.id))
    setFocusTo([...then, PAGE_TITLE_ID])
    onDismissed()
  }

  return (
    <>
      {items.length > 0 ? (
        <Section
          id="corrections-section"
          title={t.correctionsTitle}
          help={canEdit ? t.correctionsHelp : t.correctionsHelpReadOnly}
          className="corrections"
        >
          <ul className="correction-list">
            {items.map((c) => (
              <CorrectionEntry
                key={c.id}
                c={c}
                sheet={sheet}
                saver={saver}
                onDismiss={canEdit && !refused ? () => void dismiss(c) : undefined}
              />
            ))}
          </ul>
        </Section>
      ) : null}
      {/* outside the banner, which goes with its last entry: "Dismissed" is said all the same */}
      <SaveStatus text={saver.status(t)} className="visually-hidden" />
    </>
  )
}

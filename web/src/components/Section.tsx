import type { ReactNode } from 'react'

import { SaveStatus } from './SaveStatus.tsx'

interface Props {
  id: string
  title: string
  /** A sentence under the heading, e.g. what the slot is for. */
  help?: string
  /**
   * What the last change in the section came to ("Saved"), beside the heading. Given (even
   * empty) for every section that changes something, so that its live region is there before
   * anything is said in it.
   */
  status?: string
  children: ReactNode
  className?: string
}

/** A titled card; the heading names the region for screen readers. */
export function Section({ id, title, help, status, children, className }: Props) {
  return (
    <section id={id} className={`card${className ? ` ${className}` : ''}`} aria-labelledby={`${id}-title`}>
      <div className="card-head">
        <h2 id={`${id}-title`} tabIndex={-1}>
          {title}
        </h2>
        {status !== undefined ? <SaveStatus text={status} /> : null}
      </div>
      {help ? <p className="help">{help}</p> : null}
      {children}
    </section>
  )
}

interface Props {
  text: string
  className?: string
}

/** A polite live region that says "Saved" (or what was done) after a change. */
export function SaveStatus({ text, className }: Props) {
  return (
    <p role="status" className={`save-status${className ? ` ${className}` : ''}`}>
      {text ? <span className="save-status-text">{text}</span> : null}
    </p>
  )
}

/**
 * Progress for long CLI work: a bar redrawn in place on a terminal (rows, rows/s, ETA), and plain
 * lines at most every few seconds otherwise (logs, CI), so that piped output stays readable.
 */
export interface Progress {
  /** Sets the amount done so far (and the total, once known). */
  update(done: number, total?: number): void
  /** Prints the final line. */
  finish(summary?: string): void
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const duration = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s`
      : `${Math.round(s)}s`

/** Plain lines (not a terminal) come at most this often: a log gets a line every few seconds. */
const LINE_INTERVAL_MS = 5000

/** Progress on stderr, so that stdout carries only the command's output (an export, a report). */
export function createProgress(label: string, opts: { unit?: string; total?: number } = {}): Progress {
  const stream = process.stderr
  const tty = stream.isTTY === true
  const unit = opts.unit ?? 'rows'
  const started = Date.now()
  let total = opts.total
  let done = 0
  let lastDraw = 0

  const line = () => {
    const secs = Math.max(0.001, (Date.now() - started) / 1000)
    const rate = done / secs
    const parts = [
      `${label}: ${fmt(done)}${total !== undefined ? ` / ${fmt(total)}` : ''} ${unit}`,
      `${fmt(rate)} ${unit}/s`,
    ]
    if (total !== undefined && total > 0) {
      const left = rate > 0 ? (total - done) / rate : NaN
      parts.push(`${((100 * done) / total).toFixed(1)}%`, Number.isFinite(left) ? `ETA ${duration(left)}` : 'ETA —')
    }
    return parts.join('  ')
  }
  const bar = () => {
    if (total === undefined || total === 0) return ''
    const width = 24
    const filled = Math.min(width, Math.round((width * done) / total))
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] `
  }
  const draw = (force = false) => {
    const now = Date.now()
    if (!force && now - lastDraw < (tty ? 100 : LINE_INTERVAL_MS)) return
    lastDraw = now
    if (tty) stream.write(`\r\x1b[2K${bar()}${line()}`)
    else stream.write(`${line()}\n`)
  }
  return {
    update(d, t) {
      done = d
      if (t !== undefined) total = t
      draw()
    },
    finish(summary) {
      draw(true)
      if (tty) stream.write('\n')
      const secs = (Date.now() - started) / 1000
      stream.write(`${label}: done in ${duration(secs)}${summary ? ` — ${summary}` : ''}\n`)
    },
  }
}

/*
 * Logs as a person reads them on a terminal: pino writes JSON lines (what log shippers want), and
 * on a terminal a small stream turns each line into `HH:MM:SS.mmm LEVEL msg key=value ...` in the
 * same process. No pino-pretty: a dependency and a worker thread for a few dozen lines.
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
/** Fields the layout shows by place (time, level, message) or that say nothing on a terminal. */
const PLACED = new Set(['time', 'level', 'msg', 'pid', 'hostname'])

const two = (n: number) => String(n).padStart(2, '0')

/** A value as `key=value` shows it: bare unless it is empty or holds a space or a quote, else JSON-quoted. */
function show(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"]+$/.test(value) ? value : JSON.stringify(value)
  if (value === null || typeof value !== 'object') return String(value)
  return JSON.stringify(value)
}

/** `key=value` pairs, nested objects flattened into dotted keys; an error's stack apart, to follow the line. */
function pairs(obj: Record<string, unknown>, prefix: string, out: string[], stacks: string[]): void {
  for (const [key, value] of Object.entries(obj)) {
    if (!prefix && PLACED.has(key)) continue
    const name = `${prefix}${key}`
    if (key === 'stack' && typeof value === 'string') stacks.push(value)
    else if (value !== null && typeof value === 'object' && !Array.isArray(value))
      pairs(value as Record<string, unknown>, `${name}.`, out, stacks)
    else if (value !== undefined) out.push(`${name}=${show(value)}`)
  }
}

/** One pino JSON line as a line for a person; anything that is not a JSON object passes unchanged. */
export function formatLogLine(line: string): string {
  let entry: unknown
  try {
    entry = JSON.parse(line)
  } catch {
    return line
  }
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return line
  const e = entry as Record<string, unknown>
  const t = new Date(typeof e.time === 'number' ? e.time : Date.now())
  const time = `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}.${String(t.getMilliseconds()).padStart(3, '0')}`
  const level = (LEVELS[e.level as number] ?? String(e.level ?? '')).padEnd(5)
  const out: string[] = []
  const stacks: string[] = []
  pairs(e, '', out, stacks)
  const head = [time, level, typeof e.msg === 'string' ? e.msg : '', ...out].filter((s) => s !== '').join(' ')
  return [head, ...stacks.map((s) => s.replace(/^/gm, '    '))].join('\n')
}

interface Writable {
  write(chunk: string): unknown
}

/** A pino destination that writes each line formatted to `out`. */
export function prettyLogStream(out: Writable): Writable {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line !== '') out.write(`${formatLogLine(line)}\n`)
      return true
    },
  }
}

/**
 * Where logs go for a LOG_FORMAT: the pretty stream over stdout for `pretty`, and for `auto` when
 * stdout is a terminal; undefined means pino's own JSON to stdout.
 */
export function logStream(
  format: 'auto' | 'json' | 'pretty',
  stdout: Writable & { isTTY?: boolean } = process.stdout,
): Writable | undefined {
  return format === 'pretty' || (format === 'auto' && stdout.isTTY === true) ? prettyLogStream(stdout) : undefined
}
